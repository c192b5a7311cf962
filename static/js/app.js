// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Availability form: say live how many youths staffing allows tonight.
  function staffingHint() {
    var form = document.querySelector("[data-testid=availability-form]");
    if (!form) { return; }
    var hint = form.querySelector("[data-staffing-hint]");
    function value(name) { var el = form.elements[name]; return el ? parseInt(el.value, 10) : NaN; }
    function update() {
      var beds = value("open_beds"), staff = value("staff_on_duty"), ratio = value("youth_per_staff"), youth = value("current_youth");
      if ([beds, staff, ratio, youth].some(isNaN)) { return; }
      var staffed = Math.max(0, staff * ratio - youth);
      var room = Math.min(beds, staffed);
      hint.textContent = staff + " staff at 1:" + ratio + " can care for " + (staff * ratio) + " youths; with " + youth +
        " in the home, you can take " + room + " more tonight" + (staffed < beds ? " (staffing, not beds, is the limit)." : ".");
    }
    form.addEventListener("input", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    staffingHint();
  });
}());
