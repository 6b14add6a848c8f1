# R side of bench_literacy.py (run by it): the same four steps with the survey package.
# Usage: Rscript --vanilla bench_literacy.R DIR REPS
# Reads DIR/data.csv and DIR/margins.csv (not timed), writes DIR/result_R.json and the raked weights to
# DIR/weights_R.bin (raw float64).
# Raking is calibrate(..., calfun = "raking") to the two margins, whose standard errors are those of Kepu's default
# (rake(variance="calibrate")); the weights are the same as rake()'s.
# Usage: Rscript --vanilla bench_literacy.R DIR whole  -- the whole job as a user runs it: read DIR/data.csv,
# overall share and shares by district with SEs, JSON on stdout (timed from outside, start to exit).
args <- commandArgs(trailingOnly = TRUE)
dir <- args[[1]]
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail")

if (args[[2]] == "whole") {
  d <- if (requireNamespace("data.table", quietly = TRUE)) {
    as.data.frame(data.table::fread(file.path(dir, "data.csv")))
  } else {
    read.csv(file.path(dir, "data.csv"))
  }
  des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = d)
  overall <- svymean(~y, des)
  b <- svyby(~y, ~district, des, svymean)
  num <- function(x) sprintf("%.17g", x)
  cells <- sprintf("\"%s\": {\"estimate\": %s, \"se\": %s}", as.character(b$district), num(coef(b)), num(SE(b)))
  cat(sprintf("{\"n\": %d, \"overall\": {\"estimate\": %s, \"se\": %s}, \"by\": {\"district\": {%s}}}\n",
              nrow(d), num(coef(overall)[[1]]), num(SE(overall)[[1]]), paste(cells, collapse = ", ")))
  quit(save = "no")
}
reps <- as.integer(args[[2]])

peak_rss_mib <- function() {
  line <- grep("^VmHWM:", readLines("/proc/self/status"), value = TRUE)
  as.numeric(strsplit(trimws(sub("VmHWM:", "", line)), " +")[[1]][1]) / 1024
}

csv <- file.path(dir, "data.csv")
if (requireNamespace("data.table", quietly = TRUE)) {
  d <- as.data.frame(data.table::fread(csv))
  reader <- "data.table::fread"
} else {
  d <- read.csv(csv)
  reader <- "read.csv"
}
m <- read.csv(file.path(dir, "margins.csv"))
domains <- c("district", "age_band", "sex", "area", "education")
rake_vars <- c("district", "age_band")
# calibrate() needs the totals of the model matrix columns of ~factor(district) + factor(age_band): the grand
# total (intercept) and every level but the first of each margin.
cal_formula <- as.formula(paste("~", paste0("factor(", rake_vars, ")", collapse = " + ")))
cal_totals <- c("(Intercept)" = sum(m$total[m$margin == rake_vars[[1]]]))
for (v in rake_vars) {
  s <- m[m$margin == v, ]
  s <- s[order(as.integer(s$level)), ]
  cal_totals <- c(cal_totals, setNames(s$total[-1], paste0("factor(", v, ")", s$level[-1])))
}
after_load <- peak_rss_mib()

now <- function() proc.time()[["elapsed"]]
times <- list(overall = c(), domains = c(), rake = c(), raked_mean = c())
for (r in seq_len(reps)) {
  t0 <- now()
  des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = d)
  overall <- svymean(~y, des)
  t1 <- now()
  bys <- lapply(domains, function(g) svyby(~y, as.formula(paste0("~", g)), des, svymean))
  t2 <- now()
  raked <- calibrate(des, cal_formula, cal_totals, calfun = "raking", maxit = 1000, epsilon = 1e-12)
  t3 <- now()
  raked_mean <- svymean(~y, raked)
  t4 <- now()
  times$overall <- c(times$overall, t1 - t0)
  times$domains <- c(times$domains, t2 - t1)
  times$rake <- c(times$rake, t3 - t2)
  times$raked_mean <- c(times$raked_mean, t4 - t3)
}

num <- function(x) sprintf("%.17g", x)
pair <- function(est) sprintf("[%s, %s]", num(coef(est)[[1]]), num(SE(est)[[1]]))
dom_json <- vapply(seq_along(domains), function(i) {
  b <- bys[[i]]
  levels <- as.character(b[[domains[[i]]]])
  cells <- sprintf("\"%s\": [%s, %s]", levels, num(coef(b)), num(SE(b)))
  sprintf("\"%s\": {%s}", domains[[i]], paste(cells, collapse = ", "))
}, character(1))
times_json <- vapply(names(times), function(s) {
  sprintf("\"%s\": [%s]", s, paste(num(times[[s]]), collapse = ", "))
}, character(1))
writeBin(as.numeric(weights(raked)), file.path(dir, "weights_R.bin"))
json <- sprintf(
  paste0("{\"times\": {%s}, \"results\": {\"overall\": %s, \"domains\": {%s}, \"raked\": %s}, ",
         "\"rss_after_load_mib\": %s, \"rss_peak_mib\": %s, \"version\": \"%s, survey %s (%s)\"}"),
  paste(times_json, collapse = ", "), pair(overall), paste(dom_json, collapse = ", "), pair(raked_mean),
  num(after_load), num(peak_rss_mib()), R.version.string, as.character(packageVersion("survey")), reader
)
writeLines(json, file.path(dir, "result_R.json"))
