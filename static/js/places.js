// The place picker: a text field with a list of the state's counties and cities
// (<datalist>, rendered by the server for the default state) that follows the state
// chosen, and a "Use my location" button where the browser offers geolocation. Without
// this file the field still works: the server looks the typed text up on submit.
(function () {
  "use strict";

  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}}).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    });
  }

  function fillList(list, labels) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    labels.forEach(function (label) {
      var option = document.createElement("option");
      option.value = label;
      list.appendChild(option);
    });
  }

  function picker(input) {
    var form = input.form;
    var list = document.getElementById(input.getAttribute("list"));
    var stateField = form.elements[input.getAttribute("data-state-field")];
    var status = document.getElementById(input.id + "-status");
    var base = input.getAttribute("data-lookup");
    if (stateField && list) {
      stateField.addEventListener("change", function () {
        getJSON(base + "?state=" + encodeURIComponent(stateField.value)).then(function (data) { fillList(list, data.places); });
      });
    }
    if (!("geolocation" in navigator)) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = "Use my location";
    button.setAttribute("data-testid", "use-my-location");
    input.insertAdjacentElement("afterend", button);
    button.addEventListener("click", function () {
      status.textContent = "Finding where you are…";
      navigator.geolocation.getCurrentPosition(function (position) {
        var url = base + "near/" + position.coords.latitude.toFixed(3) + "/" + position.coords.longitude.toFixed(3);
        getJSON(url).then(function (data) {
          input.value = data.place;
          status.textContent = "Set to " + data.place + ".";
        }).catch(function () { status.textContent = "No US place found near you: type the county, city or ZIP code."; });
      }, function () {
        status.textContent = "Your location is not available: type the county, city or ZIP code.";
      }, {maximumAge: 600000, timeout: 15000});
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-place-picker]"), picker);
  });
}());
