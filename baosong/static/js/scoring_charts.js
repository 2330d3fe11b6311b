/* Scoring dashboard: draws the charts from the JSON the page embeds (json_script). No network. */
(function () {
  "use strict";

  var COLORS = ["#b3261e", "#1d4ed8", "#d97706", "#047857", "#7c3aed", "#64748b"];
  var FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif';

  function narrow() {
    return window.matchMedia("(max-width: 720px)").matches;
  }

  function base() {
    return {
      color: COLORS,
      textStyle: { fontFamily: FONT },
      tooltip: { trigger: "axis" },
      grid: { left: 48, right: 24, top: 40, bottom: 40, containLabel: true },
    };
  }

  function monthly(d) {
    return Object.assign(base(), {
      legend: { top: 0 },
      xAxis: { type: "category", data: d.months, axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: d.labels.submitted, type: "line", smooth: true, data: d.submitted, areaStyle: { opacity: 0.08 } },
        { name: d.labels.adopted, type: "line", smooth: true, data: d.adopted, areaStyle: { opacity: 0.08 } },
      ],
    });
  }

  function quadrant(d) {
    var over = d.points.some(function (p) { return p.value[1] > 100; });
    var line = function (axis, value, position) {
      var item = { name: d.labels.median, label: { position: position } };
      item[axis] = value;
      return item;
    };
    return Object.assign(base(), {
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          return p.data.name + "<br>" + d.labels.x + "：" + p.data.value[0] + "<br>" + d.labels.y + "：" + p.data.value[1];
        },
      },
      // Head room on the right so the busiest unit's dot and name are not cut at the edge.
      xAxis: {
        type: "value", name: d.labels.x, nameLocation: "middle", nameGap: 28, minInterval: 1,
        max: function (v) { return Math.ceil(v.max * 1.15) + 1; },
      },
      // Imported adoptions without their submissions can push a rate past 100 %: then let the
      // axis grow, otherwise keep the natural 0-100 scale.
      yAxis: { type: "value", name: d.labels.y, max: over ? undefined : 100 },
      series: [{
        type: "scatter",
        symbolSize: 14,
        data: d.points,
        label: { show: !narrow(), position: "top", formatter: "{b}", fontSize: 11 },
        labelLayout: { moveOverlap: "shiftY" },
        markLine: {
          silent: true,
          symbol: "none",
          lineStyle: { type: "dashed", color: "#94a3b8" },
          label: { formatter: d.labels.median + " {c}", fontSize: 10 },
          // At the lines' starts (the bottom, the left), away from the dots and their names,
          // which gather in the upper right.
          data: [line("xAxis", d.median_submitted, "insideStartTop"), line("yAxis", d.median_rate, "insideStartTop")],
        },
      }],
    });
  }

  function kinds(d) {
    var vertical = narrow();
    var category = { type: "category", data: d.units, axisLabel: { interval: 0, rotate: vertical ? 0 : 30 } };
    var value = { type: "value", minInterval: 1 };
    return Object.assign(base(), {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      xAxis: vertical ? value : category,
      yAxis: vertical ? Object.assign(category, { inverse: true }) : value,
      series: d.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "kinds", data: s.data, barMaxWidth: 36 };
      }),
    });
  }

  function spread(d) {
    var vertical = narrow();
    var category = { type: "category", data: d.units, axisLabel: { interval: 0, rotate: vertical ? 0 : 30 } };
    var value = { type: "value", splitNumber: vertical ? 3 : 5, axisLabel: { hideOverlap: true } };
    var markAxis = vertical ? "xAxis" : "yAxis";
    // Median and minimum are often close: their labels sit on opposite sides of the line.
    var mark = function (name, v, position) {
      var item = { name: name, label: { position: position } };
      item[markAxis] = v;
      return item;
    };
    return Object.assign(base(), {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: vertical ? value : category,
      yAxis: vertical ? Object.assign(category, { inverse: true }) : value,
      series: [{
        name: d.labels.points,
        type: "bar",
        data: d.points,
        barMaxWidth: 36,
        itemStyle: { color: COLORS[0] },
        markLine: {
          silent: true,
          symbol: "none",
          lineStyle: { type: "dashed" },
          label: { show: !vertical, formatter: "{b} {c}", fontSize: 10 },
          data: [
            mark(d.labels.max, d.max, "insideEndTop"),
            mark(d.labels.median, d.median, "insideStartTop"),
            mark(d.labels.min, d.min, "insideEndBottom"),
          ],
        },
      }],
    });
  }

  function quota(d) {
    return Object.assign(base(), {
      color: ["#047857", "#b3261e", "#cbd5e1"],
      tooltip: { trigger: "item", formatter: "{b}：{c}（{d}%）" },
      legend: { bottom: 0 },
      series: [{
        type: "pie",
        radius: ["40%", "68%"],
        label: { formatter: "{b}\n{c}" },
        // An empty slice keeps its legend entry but gets no label of its own (three labels
        // stacked at one point otherwise).
        data: d.data.map(function (slice) {
          return slice.value ? slice : Object.assign({}, slice, { label: { show: false }, labelLine: { show: false } });
        }),
      }],
    });
  }

  var BUILDERS = { monthly: monthly, quadrant: quadrant, kinds: kinds, spread: spread, quota: quota };

  function sizeFor(el, name, data) {
    // Horizontal bars on a phone need a row per unit to stay readable.
    if (narrow() && (name === "kinds" || name === "spread")) {
      el.style.height = Math.max(280, 28 * data[name].units.length + 80) + "px";
    }
  }

  function draw() {
    var source = document.getElementById("scoring-dashboard-data");
    if (!source || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    if (!data) return;
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var name = el.getAttribute("data-chart");
      if (!BUILDERS[name] || !data[name]) return;
      sizeFor(el, name, data);
      var chart = window.echarts.init(el, null, { renderer: "canvas", locale: "ZH" });
      chart.setOption(BUILDERS[name](data[name]));
      charts.push(chart);
    });
    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () {
        charts.forEach(function (c) { c.resize(); });
      }, 150);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
