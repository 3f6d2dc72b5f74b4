// The report builder: filter the MSO checkboxes by name and count the ticked ones.
document.addEventListener("DOMContentLoaded", function () {
  var search = document.getElementById("mso-search");
  var boxes = document.querySelectorAll("#mso-choices .mso-choice");
  var count = document.getElementById("mso-count");
  function update() {
    var words = search.value.trim().toLowerCase(), ticked = 0;
    boxes.forEach(function (label) {
      var box = label.querySelector("input");
      if (box.checked) ticked += 1;
      label.hidden = words && !box.checked && label.textContent.toLowerCase().indexOf(words) < 0;
    });
    count.textContent = ticked + " chosen.";
  }
  search.addEventListener("input", update);
  boxes.forEach(function (label) { label.querySelector("input").addEventListener("change", update); });
  update();
});
