// The site's few lines of JavaScript, in a file so that the Content-Security-Policy allows no
// inline script. Every page works without them.
document.addEventListener("DOMContentLoaded", function () {
  // <select data-submit-on-change>: submit its form as soon as the choice changes.
  document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  // The interview form: reload the practice choices when the MSO changes (htmx).
  document.querySelectorAll("form[data-practices-url]").forEach(function (form) {
    var mso = document.getElementById(form.dataset.msoField);
    if (!mso) { return; }
    mso.setAttribute("hx-get", form.dataset.practicesUrl);
    mso.setAttribute("hx-target", "#" + form.dataset.practiceField);
    mso.setAttribute("hx-trigger", "change");
    mso.setAttribute("name", "mso");
    if (window.htmx) { window.htmx.process(mso); }
  });
});
