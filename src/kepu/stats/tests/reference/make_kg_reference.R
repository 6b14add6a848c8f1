# Reference results for the Korn–Graubard interval, the design degrees of freedom and the effective sample size
# (kepu.stats.survey.korn_graubard_ci / effective_sample_size), computed with R's survey package.
#
# Run from this directory, after make_reference.R (it reads d1.csv, d2.csv, d3.csv):
#   Rscript make_kg_reference.R
# It writes kg_reference.json. Needs base R, the survey package and MASS (for calibrate()).
#
# Designs: svydesign(ids=~psu, strata=~stratum, weights=~w, nest=TRUE) ("plain"), the same after rake() to the
# reference margins ("rake") and after calibrate(calfun="raking") to them ("calibrate", Kepu's default); d3
# (stratum S3 has one PSU) under each options(survey.lonely.psu=). Per design, overall and per domain level
# (des[g == level, ], as svyby() builds it; the script checks svyby(..., svyciprop, method="beta") agrees):
# svyciprop(method="beta") (its "ci" attribute), degf(), nrow() (which enters the df adjustment of n_eff:
# a subset of a calibrated design keeps every row) and R's n_eff before that adjustment, p (1 - p) / vcov.
# Outcomes: y; y_east0 (y, but 0 for every respondent in region "east") and y_east1 (1 there), which give
# all-0 and all-1 domains. There R's interval is NaN (n_eff = 0/0); Kepu uses n_eff = n (NCHS convention), and
# the reference gives that interval computed here from R's qbeta/qt as nchs_ci_kg_low/nchs_ci_kg_high.

suppressPackageStartupMessages(library(survey))
source("common.R")

LEVEL <- 0.95

kg_est <- function(des, yvar) {
  f <- as.formula(paste0("~", yvar))
  tryCatch({
    m <- svymean(f, des)
    p <- num(coef(m))
    v <- num(vcov(m))
    cp <- svyciprop(f, des, method = "beta", level = LEVEL)
    n <- sum(weights(des) != 0)
    out <- list(
      n = n, rows = nrow(des), estimate = p, se = sqrt(v), df = degf(des), n_eff = p * (1 - p) / v,
      ci_kg_low = num(attr(cp, "ci")[1]), ci_kg_high = num(attr(cp, "ci")[2])
    )
    if (p == 0 || p == 1) {
      alpha <- 1 - LEVEL
      n_star <- n * (qt(alpha / 2, nrow(des) - 1) / qt(alpha / 2, degf(des)))^2
      out$nchs_ci_kg_low <- if (p == 0) 0 else qbeta(alpha / 2, n_star, 1)
      out$nchs_ci_kg_high <- if (p == 1) 1 else qbeta(1 - alpha / 2, 1, n_star)
    }
    out
  }, error = function(e) list(error = conditionMessage(e)))
}

kg_by <- function(des, data, yvar, g) {
  levs <- sort(unique(data[[g]]))
  res <- setNames(lapply(levs, function(lev) kg_est(des[data[[g]] == lev, ], yvar)), levs)
  sb <- tryCatch(
    svyby(as.formula(paste0("~", yvar)), as.formula(paste0("~", g)), des, svyciprop, method = "beta",
          vartype = "ci"),
    error = function(e) NULL
  )
  if (!is.null(sb)) {
    for (i in seq_along(levs)) {
      r <- res[[levs[i]]]
      if (!is.nan(r$ci_kg_low)) {
        stopifnot(close_enough(sb$ci_l[i], r$ci_kg_low), close_enough(sb$ci_u[i], r$ci_kg_high))
      }
    }
  }
  res
}

kg_block <- function(des, d) {
  list(
    overall = setNames(lapply(c("y", "y_east0", "y_east1"), function(v) kg_est(des, v)),
                       c("y", "y_east0", "y_east1")),
    by = list(
      y = setNames(lapply(c("sex", "age", "region"), function(g) kg_by(des, d, "y", g)), c("sex", "age", "region")),
      y_east0 = list(region = kg_by(des, d, "y_east0", "region")),
      y_east1 = list(region = kg_by(des, d, "y_east1", "region"))
    )
  )
}

reference <- list(meta = list(
  r_version = R.version.string, survey_version = as.character(packageVersion("survey")),
  level = LEVEL, call = "svyciprop(~y, design, method=\"beta\")",
  design = "svydesign(ids=~psu, strata=~stratum, weights=~w, nest=TRUE, data=d)",
  rake_control = "control=list(maxit=1000, epsilon=1e-13)",
  calibrate_call = "calibrate(des, ~v1+v2, totals, calfun=\"raking\", epsilon=1e-15, maxit=1000)"
), datasets = list())

for (name in c("d1", "d2", "d3")) {
  d <- read.csv(paste0(name, ".csv"), stringsAsFactors = FALSE)
  d$y_east0 <- ifelse(d$region == "east", 0L, d$y)
  d$y_east1 <- ifelse(d$region == "east", 1L, d$y)
  vars <- rake_vars[[name]]
  pop <- margins_for(d, vars, rake_shares)
  block <- list(plain = list(), rake = list(), calibrate = list())
  for (opt in if (name == "d3") c("fail", "remove", "adjust", "certainty", "average") else "fail") {
    options(survey.lonely.psu = opt)
    des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = d)
    block$plain[[opt]] <- kg_block(des, d)
    rk <- rake(des, lapply(vars, function(v) as.formula(paste0("~", v))), pop,
               control = list(maxit = 1000, epsilon = 1e-13))
    block$rake[[opt]] <- kg_block(rk, d)
    block$calibrate[[opt]] <- kg_block(calibrate_raking(des, pop, vars), d)
  }
  options(survey.lonely.psu = "fail")
  reference$datasets[[name]] <- block
}

writeLines(to_json(reference), "kg_reference.json")
cat("wrote kg_reference.json\n")
