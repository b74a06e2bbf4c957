// Item fields that follow the category: an ammunition lot and headstamp are asked only for
// ammunition (or while no category is chosen). A field that holds a value stays shown, so
// nothing typed is ever sent unseen. Without JavaScript every field is shown.
"use strict";
const AMMUNITION_ONLY = ["lot", "headstamp"];

function follow(select) {
  const prefix = select.name.slice(0, -"category".length);
  const category = select.value;
  for (const name of AMMUNITION_ONLY) {
    const input = document.getElementById("f-" + prefix + name);
    if (!input) continue;
    const field = input.closest(".field");
    field.hidden = category !== "" && category !== "ammunition" && input.value === "";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const select of document.querySelectorAll("select[name$='category']")) {
    if (!document.getElementById("f-" + select.name.slice(0, -"category".length) + "lot")) {
      continue;  // a category filter, not an item's
    }
    follow(select);
    select.addEventListener("change", () => follow(select));
  }
});
