# Shared by the reference scripts in this directory (source("common.R")): a JSON writer and the raking
# margins of the reference designs.

# A small JSON writer (no extra packages): named list -> object, unnamed list -> array,
# length-1 atomic -> scalar, longer atomic -> array. Doubles use 17 significant digits.
json_num <- function(v) {
  if (is.na(v) && !is.nan(v)) return("null")
  if (is.nan(v)) return("NaN")
  if (is.infinite(v)) return(if (v > 0) "Infinity" else "-Infinity")
  if (is.logical(v)) return(if (v) "true" else "false")
  if (is.integer(v)) return(as.character(v))
  sprintf("%.17g", v)
}
json_str <- function(s) paste0('"', gsub('"', '\\\\"', gsub("\\\\", "\\\\\\\\", s)), '"')
to_json <- function(x, indent = 0) {
  pad <- strrep(" ", indent + 2)
  end <- strrep(" ", indent)
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    parts <- vapply(seq_along(x), function(i) to_json(x[[i]], indent + 2), "")
    if (!is.null(names(x))) {
      parts <- paste0(json_str(names(x)), ": ", parts)
      return(paste0("{\n", pad, paste(parts, collapse = paste0(",\n", pad)), "\n", end, "}"))
    }
    return(paste0("[", paste(parts, collapse = ", "), "]"))
  }
  x <- unname(x)
  one <- if (is.character(x)) vapply(x, json_str, "") else vapply(seq_along(x), function(i) json_num(x[i]), "")
  if (length(x) == 1) one else paste0("[", paste(one, collapse = ", "), "]")
}

num <- function(x) as.numeric(unname(x))
close_enough <- function(a, b) isTRUE(all.equal(num(a), num(b), tolerance = 1e-12))

# Population margins with the same grand total: shares in whole percent of a rounded total.
margins_for <- function(data, vars, shares) {
  N <- round(sum(data$w) * 1.07 / 100) * 100
  out <- list()
  for (v in vars) {
    levs <- sort(unique(data[[v]]))
    out[[v]] <- data.frame(x = levs, Freq = N * shares[[v]] / 100, stringsAsFactors = FALSE)
    names(out[[v]])[1] <- v
    stopifnot(sum(out[[v]]$Freq) == N)
  }
  out
}
rake_shares <- list(
  sex = c(52, 48), age = c(21, 26, 33, 20), region = c(30, 38, 32)
)
rake_vars <- list(d1 = c("sex", "age"), d2 = c("age", "region"), d3 = c("sex", "age"))

# calibrate() wants the totals of the model matrix columns of ~v1 + v2 + ...: the grand total for the
# intercept and the totals of every level but the first of each margin (the same margins as rake()).
cal_formula <- function(vars) as.formula(paste("~", paste(vars, collapse = "+")))
cal_totals <- function(pop, vars) {
  out <- c("(Intercept)" = sum(pop[[vars[1]]]$Freq))
  for (v in vars) {
    p <- pop[[v]]
    out <- c(out, setNames(p$Freq[-1], paste0(v, p[[v]][-1])))
  }
  out
}
calibrate_raking <- function(des, pop, vars) {
  calibrate(des, cal_formula(vars), cal_totals(pop, vars), calfun = "raking", epsilon = 1e-15, maxit = 1000)
}
