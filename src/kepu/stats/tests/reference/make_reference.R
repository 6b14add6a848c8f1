# Reference results for kepu.stats.survey and kepu.stats.raking, computed with R's survey package.
#
# Run from this directory:  Rscript make_reference.R
# It writes d1.csv, d2.csv, d3.csv (simulated survey data, fixed seeds) and survey_reference.json.
# Needs base R, the survey package and MASS (calibrate() uses MASS::ginv) (Debian: r-base-core r-cran-survey
# r-cran-mass).
#
# Design everywhere: svydesign(ids=~psu, strata=~stratum, weights=~w, nest=TRUE), with-replacement
# Taylor linearisation, no fpc. Estimates: svymean(deff=TRUE), confint() (Wald, normal),
# svyciprop(method="logit") (t with degf() of the (sub)design), svytotal(deff=TRUE), domains exactly
# as svyby() builds them (design[g == level, ]), under each options(survey.lonely.psu=) for d3,
# after rake() to two margins, iterated to full convergence, and after calibrate(calfun="raking") to the
# same two margins (the same weights; the variance accounts for the calibration differently). Also: chains
# of rake()/calibrate() on d1 and one margin by rake(), calibrate() and postStratify().

suppressPackageStartupMessages(library(survey))

source("common.R")  # JSON writer, num(), close_enough(), margins_for(), calibrate_raking() ...

# ---------------------------------------------------------------------------------------------
# Simulated data: strata with 2..k PSUs (PSU ids repeat across strata), unequal weights scaled to
# a population, a 0/1 outcome (~20 %) with a PSU random effect, a numeric score, three domains.
make_data <- function(seed, strata, psu_min, psu_max, psu_label, lonely = character(0)) {
  set.seed(seed)
  ages <- c("18-29", "30-44", "45-64", "65+")
  age_eff <- c(0.35, 0.1, -0.2, -0.45)
  out <- list()
  for (h in seq_along(strata)) {
    s <- strata[h]
    k <- if (s %in% lonely) 1 else sample(psu_min:psu_max, 1)
    base <- runif(1, 60, 400)
    for (j in seq_len(k)) {
      m <- sample(5:12, 1)
      u <- rnorm(1, 0, 0.6)
      age_i <- sample(1:4, m, replace = TRUE, prob = c(0.3, 0.25, 0.28, 0.17))
      sex <- sample(c("F", "M"), m, replace = TRUE)
      regions <- if (s %in% lonely) c("north", "south") else c("east", "north", "south")
      region <- sample(regions, m, replace = TRUE)
      eta <- -1.7 + age_eff[age_i] + 0.3 * (sex == "F") + u
      y <- rbinom(m, 1, plogis(eta))
      score <- round(50 + 8 * u + 5 * (sex == "F") + rnorm(m, 0, 10), 2)
      w <- round(base * exp(rnorm(m, 0, 0.35)), 4)
      out[[length(out) + 1]] <- data.frame(
        stratum = s, psu = psu_label(j), w = w, y = y, score = score,
        sex = sex, age = ages[age_i], region = region, stringsAsFactors = FALSE
      )
    }
  }
  do.call(rbind, out)
}

datasets <- list(
  d1 = make_data(20240601, strata = as.character(1:5), psu_min = 2, psu_max = 8, psu_label = function(j) j),
  d2 = make_data(
    20240602,
    strata = c("ctr-A", "ctr-B", "east", "north-1", "north-2", "south", "west-1", "west-2"),
    psu_min = 2, psu_max = 10, psu_label = function(j) paste0("p", j)
  ),
  d3 = make_data(20240603, strata = c("S1", "S2", "S3", "S4", "S5"), psu_min = 2, psu_max = 5,
                 psu_label = function(j) j, lonely = "S3")
)

# ---------------------------------------------------------------------------------------------

# One estimate as the Kepu Estimate: svymean + confint + svyciprop(logit) + degf on `des`.
est_mean <- function(des, yvar, binary) {
  f <- as.formula(paste0("~", yvar))
  tryCatch({
    m <- svymean(f, des, deff = TRUE)
    ci <- confint(m)
    out <- list(
      n = sum(weights(des) != 0), estimate = num(coef(m)), se = num(SE(m)), deff = num(deff(m)),
      ci_low = num(ci[1, 1]), ci_high = num(ci[1, 2]), df = degf(des), weight_sum = sum(weights(des))
    )
    if (binary) {
      cp <- svyciprop(f, des, method = "logit")
      out$ci_logit_low <- num(attr(cp, "ci")[1])
      out$ci_logit_high <- num(attr(cp, "ci")[2])
      # svyciprop's own glm stops at glm.control(epsilon=1e-8), which leaves ~1e-8 in the bounds; the same
      # interval from a glm iterated to convergence, to compare at a tighter tolerance:
      g <- eval(bquote(svyglm(.(f[[2]]) ~ 1, des, family = quasibinomial,
                              control = glm.control(epsilon = 1e-15, maxit = 100))))
      tight <- plogis(as.numeric(confint(g, 1, level = 0.95, method = "Wald", ddf = degf(des))))
      stopifnot(isTRUE(all.equal(tight, num(attr(cp, "ci")), tolerance = 1e-6)))
      out$ci_logit_low_converged <- tight[1]
      out$ci_logit_high_converged <- tight[2]
    }
    out
  }, error = function(e) list(error = conditionMessage(e)))
}

est_total <- function(des, yvar) {
  f <- as.formula(paste0("~", yvar))
  tryCatch({
    m <- svytotal(f, des, deff = TRUE)
    ci <- confint(m)
    list(n = sum(weights(des) != 0), estimate = num(coef(m)), se = num(SE(m)), deff = num(deff(m)),
         ci_low = num(ci[1, 1]), ci_high = num(ci[1, 2]))
  }, error = function(e) list(error = conditionMessage(e)))
}

# Domains: each level as svyby builds it (des[g == level, ]); where svyby itself succeeds, its
# estimate, SE, deff and Wald CI must agree with the per-level results (checked here).
by_block <- function(des, data, yvar, g, binary, total = FALSE) {
  levs <- sort(unique(data[[g]]))
  res <- list()
  for (lev in levs) {
    sub <- des[data[[g]] == lev, ]
    res[[lev]] <- if (total) est_total(sub, yvar) else est_mean(sub, yvar, binary)
  }
  fby <- as.formula(paste0("~", g))
  f <- as.formula(paste0("~", yvar))
  sb <- tryCatch(svyby(f, fby, des, if (total) svytotal else svymean, deff = TRUE), error = function(e) NULL)
  if (!is.null(sb)) {
    ci <- confint(sb)
    for (i in seq_along(levs)) {
      r <- res[[levs[i]]]
      stopifnot(close_enough(coef(sb)[i], r$estimate), close_enough(SE(sb)[i], r$se),
                close_enough(deff(sb)[i], r$deff), close_enough(ci[i, 1], r$ci_low))
    }
    if (binary && !total) {
      cb <- svyby(f, fby, des, svyciprop, vartype = "ci", method = "logit")
      for (i in seq_along(levs)) {
        stopifnot(close_enough(cb$ci_l[i], res[[levs[i]]]$ci_logit_low),
                  close_enough(cb$ci_u[i], res[[levs[i]]]$ci_logit_high))
      }
    }
  }
  res
}

domains <- c("sex", "age", "region")

estimates <- function(des, data) {
  list(
    overall = list(y = est_mean(des, "y", TRUE), score = est_mean(des, "score", FALSE)),
    total = list(y = est_total(des, "y")),
    by = setNames(lapply(domains, function(g) by_block(des, data, "y", g, TRUE)), domains),
    by_score = list(age = by_block(des, data, "score", "age", FALSE)),
    by_total = list(region = by_block(des, data, "y", "region", TRUE, total = TRUE))
  )
}

reference <- list(meta = list(
  r_version = R.version.string, survey_version = as.character(packageVersion("survey")),
  design = "svydesign(ids=~psu, strata=~stratum, weights=~w, nest=TRUE, data=d)",
  rake_control = "control=list(maxit=1000, epsilon=1e-13)",
  calibrate_call = "calibrate(des, ~v1+v2, totals, calfun=\"raking\", epsilon=1e-15, maxit=1000)"
), datasets = list())

chain_block <- function(des, d, margins) {
  list(margins = margins, weights = as.list(unname(weights(des))),
       overall = list(y = est_mean(des, "y", TRUE), score = est_mean(des, "score", FALSE)),
       total = list(y = est_total(des, "y")), by = list(sex = by_block(des, d, "y", "sex", TRUE)))
}

for (name in names(datasets)) {
  d <- datasets[[name]]
  csv <- paste0(name, ".csv")
  write.csv(d, csv, row.names = FALSE)
  d <- read.csv(csv, stringsAsFactors = FALSE)  # estimate from exactly what Python reads
  options_to_run <- if (name == "d3") c("fail", "remove", "adjust", "certainty", "average") else "fail"
  block <- list(file = csv, n = nrow(d), lonely = list(), rake = list(), calibrate = list())
  vars <- rake_vars[[name]]
  pop <- margins_for(d, vars, rake_shares)
  block$margins <- setNames(lapply(vars, function(v) setNames(as.list(pop[[v]]$Freq), pop[[v]][[v]])), vars)
  for (opt in options_to_run) {
    options(survey.lonely.psu = opt)
    des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = d)
    block$lonely[[opt]] <- estimates(des, d)
    rk <- rake(des, lapply(vars, function(v) as.formula(paste0("~", v))), pop,
               control = list(maxit = 1000, epsilon = 1e-13))
    rw <- weights(rk)
    for (v in vars) {
      achieved <- tapply(rw, d[[v]], sum)
      stopifnot(isTRUE(all.equal(num(achieved[pop[[v]][[v]]]), pop[[v]]$Freq, tolerance = 1e-12)))
    }
    rres <- estimates(rk, d)
    rres$weights <- as.list(unname(rw))
    rres$weights_summary <- list(min = min(rw), max = max(rw), mean = mean(rw), sum = sum(rw))
    block$rake[[opt]] <- rres
    # The same margins by calibrate(calfun="raking"): the weights equal rake()'s, the variance differs.
    cl <- calibrate_raking(des, pop, vars)
    cw <- weights(cl)
    stopifnot(isTRUE(all.equal(num(cw), num(rw), tolerance = 1e-12)))
    cres <- estimates(cl, d)
    cres$weights <- as.list(unname(cw))
    cres$weights_summary <- list(min = min(cw), max = max(cw), mean = mean(cw), sum = sum(cw))
    block$calibrate[[opt]] <- cres
    if (name == "d1") {
      # A raked design raked again to a third margin: R keeps both rakings for the variance.
      pop2 <- margins_for(d, "region", rake_shares)
      rk2 <- rake(rk, list(~region), pop2, control = list(maxit = 1000, epsilon = 1e-13))
      block$rake_again <- list(
        margins = list(region = setNames(as.list(pop2$region$Freq), pop2$region$region)),
        weights = as.list(unname(weights(rk2))),
        overall = list(y = est_mean(rk2, "y", TRUE)),
        by = list(sex = by_block(rk2, d, "y", "sex", TRUE))
      )
      # Chains with calibrate(): R appends one more calibration per call and svyrecvar applies them in order.
      m2 <- list(region = setNames(as.list(pop2$region$Freq), pop2$region$region))
      cl2 <- calibrate_raking(cl, pop2, "region")
      block$calibrate_again <- chain_block(cl2, d, m2)
      block$rake_then_calibrate <- chain_block(calibrate_raking(rk, pop2, "region"), d, m2)
      block$calibrate_then_rake <- chain_block(
        rake(cl, list(~region), pop2, control = list(maxit = 1000, epsilon = 1e-13)), d, m2
      )
      # One margin (post-stratification): rake() differs from calibrate() unless the weights are constant
      # within the margin's categories; calibrate() equals postStratify().
      one_pop <- margins_for(d, "sex", rake_shares)
      one <- function(des, pop) {
        list(rake = rake(des, list(~sex), pop, control = list(maxit = 1000, epsilon = 1e-13)),
             calibrate = calibrate_raking(des, pop, "sex"), postStratify = postStratify(des, ~sex, pop$sex))
      }
      one_res <- function(designs) {
        lapply(designs, function(x) list(weights = as.list(unname(weights(x))),
                                         overall = list(y = est_mean(x, "y", TRUE)),
                                         by = list(age = by_block(x, d, "y", "age", TRUE))))
      }
      d_eq <- d
      d_eq$w_equal <- 250
      des_eq <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w_equal, nest = TRUE, data = d_eq)
      pop_eq <- margins_for(transform(d, w = 250), "sex", rake_shares)
      block$one_margin <- list(
        margins = list(sex = setNames(as.list(one_pop$sex$Freq), one_pop$sex$sex)),
        sampling_weights = one_res(one(des, one_pop)),
        equal_weights = c(list(weight = 250,
                               margins = list(sex = setNames(as.list(pop_eq$sex$Freq), pop_eq$sex$sex))),
                          one_res(one(des_eq, pop_eq)))
      )
    }
  }
  options(survey.lonely.psu = "fail")
  reference$datasets[[name]] <- block
}

writeLines(to_json(reference), "survey_reference.json")
cat("wrote survey_reference.json\n")
