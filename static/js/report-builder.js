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

  // The weights: the methodology's, shown and locked while they are chosen; the client's own,
  // editable, with their running total (they must add up to 100).
  var weights = document.querySelectorAll("#weight-boxes input[type=number]");
  var total = document.getElementById("weights-total");
  var choices = document.querySelectorAll("input[name=weights_from]");
  function own() {
    var chosen = document.querySelector("input[name=weights_from]:checked");
    return chosen && chosen.value === "own";
  }
  function weigh() {
    var sum = 0, mine = own();
    weights.forEach(function (box) {
      if (!mine) { box.value = box.dataset.methodology; }
      box.readOnly = !mine;
      box.setAttribute("aria-readonly", String(!mine));
      sum += parseInt(box.value, 10) || 0;
    });
    total.textContent = mine
      ? "Total of the client's weights: " + sum + (sum === 100 ? " of 100." : " of 100: they must add up to 100.")
      : "The methodology's weights (total 100) are used; choose the client's own weights to change them.";
    total.classList.toggle("error", mine && sum !== 100);
  }
  choices.forEach(function (radio) { radio.addEventListener("change", weigh); });
  weights.forEach(function (box) { box.addEventListener("input", weigh); });
  weigh();
});
