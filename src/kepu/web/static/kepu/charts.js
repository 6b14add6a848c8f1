// Render every element with a data-option attribute as an ECharts chart. Series marked
// kepu: "errorbars" become confidence-interval whiskers drawn with a custom series.
(function () {
  function errorBars(s) {
    var out = Object.assign({}, s);
    delete out.kepu;
    out.renderItem = function (params, api) {
      var x = api.value(0), lo = api.coord([x, api.value(1)]), hi = api.coord([x, api.value(2)]);
      var w = 6, style = { stroke: api.visual("color"), lineWidth: 1.5 };
      return { type: "group", children: [
        { type: "line", shape: { x1: lo[0], y1: lo[1], x2: hi[0], y2: hi[1] }, style: style },
        { type: "line", shape: { x1: lo[0] - w, y1: lo[1], x2: lo[0] + w, y2: lo[1] }, style: style },
        { type: "line", shape: { x1: hi[0] - w, y1: hi[1], x2: hi[0] + w, y2: hi[1] }, style: style }
      ] };
    };
    return out;
  }
  // Values shown at the indicator's precision (kepuDigits: 0 for counts, 1 otherwise), so 19.0 is
  // not printed as 19 next to 19.9.
  function fixed(digits) {
    return function (v) {
      var x = Array.isArray(v) ? v[v.length - 1] : (v && typeof v === "object" ? v.value : v);
      return typeof x === "number"
        ? x.toLocaleString("zh-CN", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "—";
    };
  }
  function applyDigits(option) {
    if (typeof option.kepuDigits !== "number") return;
    var f = fixed(option.kepuDigits);
    option.tooltip = Object.assign({ valueFormatter: f }, option.tooltip || {});
    option.series.forEach(function (s) {
      if (s.label && s.label.show) s.label.formatter = function (p) { return f(p.value); };
    });
    delete option.kepuDigits;
  }
  document.querySelectorAll("[data-option]").forEach(function (el) {
    var option = JSON.parse(el.getAttribute("data-option"));
    // HTML tooltips are built with inline style attributes, which the Content-Security-Policy
    // forbids; rich-text tooltips are drawn by the renderer itself.
    if (option.tooltip) { option.tooltip.renderMode = "richText"; }
    option.series = (option.series || []).map(function (s) { return s.kepu === "errorbars" ? errorBars(s) : s; });
    applyDigits(option);
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption(option);
    el.setAttribute("data-rendered", "1");
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
