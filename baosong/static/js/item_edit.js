/* The item editor: Jodit rich text, autosave every few seconds of typing and on leaving a field,
   a local copy in this browser so nothing is lost if the session ends, and clear messages. */
(function () {
  "use strict";
  var form = document.getElementById("item-form");
  if (!form) { return; }
  var itemId = form.dataset.item;
  var autosaveUrl = form.dataset.autosaveUrl;
  var statusBox = document.getElementById("autosave-status");
  var sessionBanner = document.getElementById("session-banner");
  var storageKey = "baosong-draft-" + itemId;
  var title = document.getElementById("id_title");
  var body = document.getElementById("id_body");
  var base = form.querySelector("input[name=base_version]");
  var editor = null;
  var timer = null;
  var dirty = false;
  var stopped = false;
  var inflight = null;     // the autosave request under way, if any
  var submitting = false;  // the form is being sent: no more autosaves from this page

  function csrf() { return form.querySelector("input[name=csrfmiddlewaretoken]").value; }
  function bodyValue() { return editor ? editor.value : body.value; }
  function setStatus(text) { if (statusBox) { statusBox.textContent = text; } }

  if (window.Jodit) {
    editor = window.Jodit.make(body, {
      language: "zh_cn",
      height: 460,
      toolbarAdaptive: true,
      askBeforePasteHTML: false,
      askBeforePasteFromWord: false,
      defaultActionOnPaste: "insert_clear_html",
      buttons: ["bold", "italic", "underline", "strikethrough", "|", "ul", "ol", "|", "paragraph",
        "|", "table", "link", "hr", "|", "undo", "redo", "|", "fullsize"],
      showCharsCounter: true,
      showWordsCounter: false,
      uploader: { insertImageAsBase64URI: false },
      disablePlugins: ["image", "video", "file", "media", "speech-recognize", "ai-assistant"],
      // Nothing from the network: Jodit would otherwise fetch Ace and js-beautify from cdnjs.
      sourceEditor: "area",
      beautifyHTML: false,
    });
    window.baosongEditor = editor;
  }

  function keepLocal() {
    try {
      localStorage.setItem(storageKey, JSON.stringify({
        title: title.value, body: bodyValue(), base: base ? base.value : null, at: Date.now(),
      }));
    } catch (e) { /* storage full or disabled: the server copy still counts */ }
  }
  function dropLocal() { try { localStorage.removeItem(storageKey); } catch (e) { /* ignore */ } }

  function changed() {
    if (submitting) { return; }
    dirty = true;
    keepLocal();
    if (!autosaveUrl || stopped) { return; }
    clearTimeout(timer);
    timer = setTimeout(save, 4000);
  }

  function sessionEnded() {
    stopped = true;
    sessionBanner.hidden = false;
    sessionBanner.innerHTML = "";
    sessionBanner.append(
      "登录已过期。最近一次自动保存的内容在服务器上，本机也保留了一份未保存的内容。 ");
    var link = document.createElement("a");
    link.href = form.dataset.loginUrl;
    link.className = "btn btn-small";
    link.textContent = "重新登录后继续";
    sessionBanner.append(link);
  }

  function save() {
    if (!autosaveUrl || stopped || submitting || !dirty) { return inflight || Promise.resolve(); }
    // One request at a time: a second one would carry the same base version and conflict.
    if (inflight) { return inflight.then(save); }
    var data = new FormData();
    data.append("title", title.value);
    data.append("body", bodyValue());
    data.append("base_version", base.value);
    dirty = false;
    setStatus("正在保存…");
    inflight = fetch(autosaveUrl, {
      method: "POST", body: data, credentials: "same-origin", redirect: "manual",
      headers: { "X-CSRFToken": csrf(), "Accept": "application/json" },
    }).then(function (response) {
      if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
        dirty = true;
        sessionEnded();
        return null;
      }
      return response.json().then(function (json) {
        if (json.ok) {
          base.value = json.version;
          dropLocal();
          setStatus("已自动保存 " + json.saved_at + "（第 " + json.version + " 版）");
        } else if (json.conflict) {
          stopped = true;
          setStatus(json.error);
          sessionBanner.hidden = false;
          sessionBanner.textContent = json.error + " 请打开“版本”比较后再继续。";
        } else {
          dirty = true;
          setStatus(json.error || "保存失败");
        }
      });
    }).catch(function () {
      dirty = true;
      setStatus("网络中断，内容已保留在本机，恢复后会自动保存。");
    }).then(function () { inflight = null; });
    return inflight;
  }

  if (editor) {
    editor.events.on("change", changed);
    editor.events.on("blur", function () { clearTimeout(timer); save(); });
  } else {
    body.addEventListener("input", changed);
    body.addEventListener("blur", function () { clearTimeout(timer); save(); });
  }
  title.addEventListener("input", changed);
  title.addEventListener("blur", function () { clearTimeout(timer); save(); });
  // Clicking a submit button first blurs the editor, which starts an autosave. Sending the form
  // alongside it would race: the form's base version goes stale (a false conflict) or the item is
  // submitted before the autosave arrives (403). Wait for the autosave, then send the form.
  form.addEventListener("submit", function (event) {
    clearTimeout(timer);
    // Jodit copies its content into the textarea only after a pause in typing.
    if (editor) { body.value = editor.value; }
    if (inflight) {
      event.preventDefault();
      var submitter = event.submitter || null;
      inflight.then(function () { form.requestSubmit(submitter); });
      return;
    }
    submitting = true;
    dirty = false;
    dropLocal();
  });
  window.addEventListener("pageshow", function () { submitting = false; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty && !stopped) { save(); }
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });

  // A local copy newer than what the server has (e.g. typed while signed out): offer it.
  try {
    var local = JSON.parse(localStorage.getItem(storageKey) || "null");
    if (local && (local.title !== title.value || local.body !== bodyValue())) {
      var banner = document.getElementById("restore-banner");
      banner.hidden = false;
      document.getElementById("restore-local").onclick = function () {
        title.value = local.title;
        if (editor) { editor.value = local.body; } else { body.value = local.body; }
        banner.hidden = true;
        changed();
      };
      document.getElementById("discard-local").onclick = function () { dropLocal(); banner.hidden = true; };
    }
  } catch (e) { /* ignore */ }

  // Images among the attachments can be put into the text.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-insert-image]");
    if (!button || !editor) { return; }
    event.preventDefault();
    // Built as an element so the file name (user input) is escaped in the alt text.
    var img = document.createElement("img");
    img.setAttribute("src", button.dataset.insertImage);
    img.setAttribute("alt", (button.dataset.alt || "").replace(/\.[^.]+$/, ""));
    var selection = window.getSelection();
    var caretInText = selection && selection.rangeCount > 0 &&
      editor.editor.contains(selection.getRangeAt(0).startContainer);
    if (caretInText) {
      editor.s.insertHTML(img.outerHTML);
    } else {
      // No caret in the text (Jodit would put the image before the first character): a new
      // paragraph at the end.
      editor.value = editor.value + "<p>" + img.outerHTML + "</p>";
    }
    changed();
  });
  window.baosongSave = save;
})();
