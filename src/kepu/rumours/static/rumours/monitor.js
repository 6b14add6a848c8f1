// The monitoring page's chart: daily reports per topic or district, stacked bars (last 90 days).
// Data come in the element's data-chart attribute (the CSP forbids inline scripts).
(function () {
  var el = document.getElementById("volume-chart");
  if (!el || typeof echarts === "undefined") return;
  var data = JSON.parse(el.getAttribute("data-chart"));
  var chart = echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    grid: { left: 45, right: 20, top: 40, bottom: 40 },
    legend: { type: "scroll", top: 0 },
    tooltip: { trigger: "axis", renderMode: "richText" },
    xAxis: { type: "category", data: data.days },
    yAxis: { type: "value", minInterval: 1 },
    series: data.series.map(function (s) { return { name: s.name, type: "bar", stack: "all", data: s.data }; })
  });
  el.setAttribute("data-rendered", "1");
  window.addEventListener("resize", function () { chart.resize(); });
})();
