// Scheme editor: add rows to the adoption table and quota formsets, and hide rows ticked for
// deletion. Without JavaScript the form still works: one blank row each, and "删除" boxes.
(function () {
  "use strict";
  function setup(name) {
    var table = document.querySelector('[data-formset="' + name + '"]');
    var template = document.querySelector('template[data-empty="' + name + '"]');
    var button = document.querySelector('[data-add-row="' + name + '"]');
    var total = document.getElementById("id_" + name + "-TOTAL_FORMS");
    if (!table || !template || !button || !total) return;
    var body = table.querySelector("[data-rows]");
    button.hidden = false;
    button.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      var holder = document.createElement("tbody");
      holder.innerHTML = html;
      var row = holder.querySelector("tr");
      body.appendChild(row);
      total.value = String(index + 1);
      var first = row.querySelector("input, select");
      if (first) first.focus();
    });
    table.addEventListener("change", function (event) {
      var box = event.target;
      if (box.name && /-DELETE$/.test(box.name)) {
        box.closest("tr").classList.toggle("row-deleted", box.checked);
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    setup("table");
    setup("quota");
  });
})();
