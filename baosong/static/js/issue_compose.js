/* Composing an issue: drag to reorder (SortableJS; the whole order is posted on drop) and the
   Jodit editor for an adopted text. Without JavaScript the ↑/↓ buttons and plain textarea work. */
(function () {
  "use strict";

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function renumber(list) {
    var rows = list.querySelectorAll(".issue-item");
    rows.forEach(function (row, index) {
      var no = row.querySelector(".item-no");
      if (no) { no.textContent = String(index + 1); }
      var up = row.querySelector(".move-up");
      var down = row.querySelector(".move-down");
      if (up) { up.disabled = index === 0; }
      if (down) { down.disabled = index === rows.length - 1; }
    });
  }

  function say(box, text, kind) {
    if (!box) { return; }
    box.className = "message" + (kind ? " message-" + kind : "");
    box.textContent = text;
  }

  function setUpSorting() {
    var list = document.getElementById("issue-items");
    if (!list || !list.dataset.orderUrl || !window.Sortable) { return; }
    var status = document.getElementById("order-status");
    window.Sortable.create(list, {
      handle: ".drag-handle",
      draggable: ".issue-item",
      animation: 150,
      onEnd: function (event) {
        if (event.oldIndex === event.newIndex) { return; }
        renumber(list);
        var body = new FormData();
        list.querySelectorAll(".issue-item").forEach(function (row) {
          body.append("order", row.dataset.id);
        });
        say(status, "正在保存顺序…", "");
        fetch(list.dataset.orderUrl, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrf(), "Accept": "application/json" },
        }).then(function (response) {
          return response.json().catch(function () { return { ok: false }; }).then(function (data) {
            if (response.ok && data.ok) {
              say(status, "顺序已保存。", "success");
              return;
            }
            say(status, (data && data.error) || "顺序没有保存，请刷新页面后重试。", "error");
            setTimeout(function () { window.location.reload(); }, 2500);
          });
        }).catch(function () {
          say(status, "网络异常，顺序没有保存，请刷新页面后重试。", "error");
        });
      },
    });
  }

  function setUpEditor() {
    var area = document.querySelector("textarea[data-rich]");
    if (!area || !window.Jodit) { return; }
    window.baosongEditor = window.Jodit.make(area, {
      language: "zh_cn",
      height: 460,
      toolbarAdaptive: true,
      askBeforePasteHTML: false,
      askBeforePasteFromWord: false,
      defaultActionOnPaste: "insert_clear_html",
      buttons: ["bold", "italic", "underline", "|", "ul", "ol", "|", "paragraph", "|", "table",
        "link", "hr", "|", "undo", "redo", "|", "fullsize"],
      showCharsCounter: true,
      showWordsCounter: false,
      uploader: { insertImageAsBase64URI: false },
      disablePlugins: ["image", "video", "file", "media", "speech-recognize", "ai-assistant"],
      // Nothing from the network: Jodit would otherwise fetch Ace and js-beautify from cdnjs.
      sourceEditor: "area",
      beautifyHTML: false,
    });
  }

  function start() {
    setUpSorting();
    setUpEditor();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
