# Reference results for kepu.stats.replicate (delete-one-PSU jackknife), computed with R's survey package.
#
# Run from this directory, after make_reference.R (it reads d1.csv, d2.csv, d3.csv):
#   Rscript make_replicate_reference.R
# It writes replicate_reference.json. Needs base R and the survey package (and common.R, beside it).
#
# Design: svydesign(ids=~psu, strata=~stratum, weights=~w, nest=TRUE), then
# as.svrepdesign(design, type="JKn", mse=TRUE) (delete one PSU within its stratum), and the same replicate
# design after rake() to two margins (every replicate weight set is raked to the margins too). Per design:
# svymean (estimate, SE), degf() and svyciprop(method="beta") overall and per domain level (svyby() builds
# each level as design[g == level, ], which for a replicate design drops the other rows and recomputes degf);
# d3 (stratum S3 has one PSU) under each options(survey.lonely.psu=).

suppressPackageStartupMessages(library(survey))

source("common.R")  # to_json(), num(), margins_for(), rake_shares, rake_vars

est_mean <- function(des, yvar, binary) {
  f <- as.formula(paste0("~", yvar))
  tryCatch({
    m <- svymean(f, des, deff = TRUE)
    out <- list(n = nrow(des), estimate = num(coef(m)), se = num(SE(m)), deff = num(deff(m)), df = degf(des),
                weight_sum = sum(weights(des, "sampling")))
    if (binary) {
      cp <- svyciprop(f, des, method = "beta")
      out$ci_kg_low <- num(attr(cp, "ci")[1])
      out$ci_kg_high <- num(attr(cp, "ci")[2])
    }
    out
  }, error = function(e) list(error = conditionMessage(e)))
}

by_block <- function(des, data, yvar, g, binary) {
  levs <- sort(unique(data[[g]]))
  res <- list()
  for (lev in levs) res[[lev]] <- est_mean(des[data[[g]] == lev, ], yvar, binary)
  sb <- svyby(as.formula(paste0("~", yvar)), as.formula(paste0("~", g)), des, svymean)
  for (i in seq_along(levs)) {
    stopifnot(isTRUE(all.equal(num(SE(sb)[i]), res[[levs[i]]]$se, tolerance = 1e-12)))
  }
  res
}

estimates <- function(des, data) {
  list(
    replicates = ncol(weights(des, "analysis")),
    df = degf(des),
    overall = list(y = est_mean(des, "y", TRUE), score = est_mean(des, "score", FALSE)),
    by = setNames(lapply(c("sex", "age", "region"), function(g) by_block(des, data, "y", g, TRUE)),
                  c("sex", "age", "region")),
    by_score = list(age = by_block(des, data, "score", "age", FALSE))
  )
}

reference <- list(meta = list(
  r_version = R.version.string, survey_version = as.character(packageVersion("survey")),
  design = "as.svrepdesign(svydesign(ids=~psu, strata=~stratum, weights=~w, nest=TRUE, data=d), type=\"JKn\", mse=TRUE)",
  rake_control = "control=list(maxit=1000, epsilon=1e-13)"
), datasets = list())

for (name in c("d1", "d2", "d3")) {
  d <- read.csv(paste0(name, ".csv"), stringsAsFactors = FALSE)
  vars <- rake_vars[[name]]
  pop <- margins_for(d, vars, rake_shares)
  block <- list(file = paste0(name, ".csv"),
                margins = setNames(lapply(vars, function(v) setNames(as.list(pop[[v]]$Freq), pop[[v]][[v]])), vars),
                jkn = list(), raked = list())
  options_to_run <- if (name == "d3") c("fail", "remove", "adjust", "certainty", "average") else "fail"
  for (opt in options_to_run) {
    options(survey.lonely.psu = opt)
    des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = d)
    rep <- tryCatch(as.svrepdesign(des, type = "JKn", mse = TRUE), error = function(e) e)
    if (inherits(rep, "error")) {
      block$jkn[[opt]] <- list(error = conditionMessage(rep))
      next
    }
    block$jkn[[opt]] <- c(list(scale = rep$scale), estimates(rep, d))
    rk <- rake(rep, lapply(vars, function(v) as.formula(paste0("~", v))), pop,
               control = list(maxit = 1000, epsilon = 1e-13))
    block$raked[[opt]] <- estimates(rk, d)
  }
  options(survey.lonely.psu = "fail")
  reference$datasets[[name]] <- block
}

# A domain that one replicate deletes entirely: R's svrVar discards that replicate (with a warning).
tiny <- data.frame(stratum = c("A", "A", "A", "A", "B", "B", "B", "B"),
                   psu = c("a1", "a1", "a2", "a2", "b1", "b1", "b2", "b3"), y = c(1, 0, 0, 0, 1, 0, 1, 0), w = 10)
tiny_rep <- as.svrepdesign(svydesign(ids = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = tiny),
                           type = "JKn", mse = TRUE)
reference$discarded <- list(
  stratum = tiny$stratum, psu = tiny$psu, y = tiny$y, w = tiny$w,
  se_psu_b2 = suppressWarnings(num(SE(svymean(~y, subset(tiny_rep, psu == "b2"))))),
  se_stratum_A = num(SE(svymean(~y, subset(tiny_rep, stratum == "A"))))
)

writeLines(to_json(reference), "replicate_reference.json")
cat("wrote replicate_reference.json\n")
