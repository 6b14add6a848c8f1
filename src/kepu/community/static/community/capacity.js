// The capacity page's scatter: capacity index (x) against the literacy rate (y), one point per
// district and year, with the least-squares line when the page says the correlation is shown.
// Data come in the element's data-capacity attribute (the CSP forbids inline scripts).
(function () {
  var el = document.getElementById("capacity-scatter");
  if (!el || typeof echarts === "undefined") return;
  var data = JSON.parse(el.getAttribute("data-capacity"));
  var series = [{
    type: "scatter", symbolSize: 11, data: data.points,
    label: { show: data.points.length <= 12, position: "right", fontSize: 11,
             formatter: function (p) { return p.name; } }
  }];
  if (data.fit && data.points.length > 1) {
    var xs = data.points.map(function (p) { return p.value[0]; });
    var ys = data.points.map(function (p) { return p.value[1]; });
    var n = xs.length, mx = 0, my = 0, sxy = 0, sxx = 0, i;
    for (i = 0; i < n; i++) { mx += xs[i] / n; my += ys[i] / n; }
    for (i = 0; i < n; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) * (xs[i] - mx); }
    if (sxx > 0) {
      var b = sxy / sxx, a = my - b * mx, lo = Math.min.apply(null, xs), hi = Math.max.apply(null, xs);
      series.push({ type: "line", symbol: "none", silent: true, lineStyle: { type: "dashed" },
                    data: [[lo, a + b * lo], [hi, a + b * hi]] });
    }
  }
  // Leave a margin round the points so none sits on an axis under its label.
  function step(v) { return v.max - v.min > 10 ? 5 : 1; }
  function lower(v) { return Math.floor((v.min - Math.max((v.max - v.min) * 0.1, 0.5)) / step(v)) * step(v); }
  function upper(v) { return Math.ceil((v.max + Math.max((v.max - v.min) * 0.1, 0.5)) / step(v)) * step(v); }
  var chart = echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    grid: { left: 60, right: 90, top: 20, bottom: 45 },
    tooltip: { trigger: "item", renderMode: "richText", formatter: function (p) {
      return p.seriesType === "scatter" ? p.name + "\n" + data.xName + " " + p.value[0].toFixed(1) +
        "\n" + data.yName + " " + p.value[1].toFixed(1) : "";
    } },
    xAxis: { type: "value", name: data.xName, nameLocation: "middle", nameGap: 28, min: lower, max: upper },
    yAxis: { type: "value", name: data.yName, nameLocation: "middle", nameGap: 38, min: lower, max: upper },
    series: series
  });
  el.setAttribute("data-rendered", "1");
  window.addEventListener("resize", function () { chart.resize(); });
})();
