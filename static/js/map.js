// Offline maps: US county shapes from the vendored us-atlas TopoJSON (static/vendor,
// read with the vendored topojson-client), drawn as SVG. Each map's figures sit next to
// it in a <script type="application/json"> block (data, never code), so the strict
// Content-Security-Policy holds. The list or table beside every map carries the same
// facts for anyone who cannot see it or has no JavaScript.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var KM_PER_DEGREE = 111.2;
  var STATE_FIPS = {
    AL: "01", AK: "02", AZ: "04", AR: "05", CA: "06", CO: "08", CT: "09", DE: "10", DC: "11", FL: "12", GA: "13",
    HI: "15", ID: "16", IL: "17", IN: "18", IA: "19", KS: "20", KY: "21", LA: "22", ME: "23", MD: "24", MA: "25",
    MI: "26", MN: "27", MS: "28", MO: "29", MT: "30", NE: "31", NV: "32", NH: "33", NJ: "34", NM: "35", NY: "36",
    NC: "37", ND: "38", OH: "39", OK: "40", OR: "41", PA: "42", RI: "44", SC: "45", SD: "46", TN: "47", TX: "48",
    UT: "49", VT: "50", VA: "51", WA: "53", WV: "54", WI: "55", WY: "56"
  };
  var atlas = null;

  function loadAtlas(url) {
    if (!atlas) { atlas = fetch(url).then(function (response) { return response.json(); }); }
    return atlas;
  }

  function element(name, attributes) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    return node;
  }

  function titled(node, text) {
    var title = element("title");
    title.textContent = text;
    node.appendChild(title);
    return node;
  }

  // A plain equirectangular projection, squeezed by cos(latitude) at the state's middle:
  // true enough at state scale, and a circle of N km stays a circle.
  function projection(features, extraPoints, width) {
    var lons = [], lats = [];
    features.forEach(function (feature) {
      (feature.geometry.type === "Polygon" ? [feature.geometry.coordinates] : feature.geometry.coordinates).forEach(function (polygon) {
        polygon[0].forEach(function (point) { lons.push(point[0]); lats.push(point[1]); });
      });
    });
    extraPoints.forEach(function (point) { lons.push(point[1]); lats.push(point[0]); });
    var west = Math.min.apply(null, lons), east = Math.max.apply(null, lons);
    var south = Math.min.apply(null, lats), north = Math.max.apply(null, lats);
    var squeeze = Math.cos(((north + south) / 2) * Math.PI / 180);
    var scale = width / ((east - west) * squeeze || 1);
    var project = function (lon, lat) { return [(lon - west) * squeeze * scale, (north - lat) * scale]; };
    project.height = (north - south) * scale;
    project.kmToPixels = function (km) { return km / KM_PER_DEGREE * scale; };
    return project;
  }

  function pathOf(feature, project) {
    var polygons = feature.geometry.type === "Polygon" ? [feature.geometry.coordinates] : feature.geometry.coordinates;
    return polygons.map(function (polygon) {
      return polygon.map(function (ring) {
        return "M" + ring.map(function (point) { var p = project(point[0], point[1]); return p[0].toFixed(1) + "," + p[1].toFixed(1); }).join("L") + "Z";
      }).join("");
    }).join("");
  }

  function countyKey(name) { return String(name).toLowerCase().replace(/\./g, "").replace(/ county$/, "").trim(); }

  function shade(value, most) {
    if (!value) { return "#f1f3f6"; }
    var level = Math.min(4, Math.ceil(4 * value / (most || 1)));
    return ["#f1f3f6", "#cfe3d6", "#9ccaa9", "#5fa77a", "#1d7a46"][level];
  }

  function draw(holder, topo, spec) {
    var fips = STATE_FIPS[spec.state];
    var counties = window.topojson.feature(topo, topo.objects.counties).features.filter(function (feature) {
      return String(feature.id).slice(0, 2) === fips;
    });
    if (!counties.length) { return; }
    var width = 600;
    var points = (spec.points || []).map(function (p) { return [p.lat, p.lon]; });
    var project = projection(counties, points, width);
    var pad = 12;
    var svg = element("svg", {
      viewBox: (-pad) + " " + (-pad) + " " + (width + 2 * pad) + " " + (project.height + 2 * pad),
      role: "img", "aria-labelledby": holder.id + "-title", "class": "map"
    });
    var title = element("title", {id: holder.id + "-title"});
    title.textContent = spec.title;
    svg.appendChild(title);
    var most = 0;
    Object.keys(spec.counties || {}).forEach(function (key) { most = Math.max(most, spec.counties[key].open || 0); });
    var figures = {};
    Object.keys(spec.counties || {}).forEach(function (key) { figures[countyKey(key)] = spec.counties[key]; });
    counties.forEach(function (feature) {
      var f = figures[countyKey(feature.properties.name)] || {};
      var path = element("path", {d: pathOf(feature, project), fill: shade(f.open, most), stroke: f.unmet ? "#b3261e" : "#8a93a3",
                                  "stroke-width": f.unmet ? 2.5 : 0.6, "data-county": feature.properties.name});
      var words = feature.properties.name + " County";
      if (f.open !== undefined) { words += ": " + f.open + " open beds"; }
      if (f.unmet) { words += ", " + f.unmet + " children waited"; }
      svg.appendChild(titled(path, words));
    });
    var youth = (spec.points || []).filter(function (p) { return p.kind === "youth"; })[0];
    if (youth) {
      var centre = project(youth.lon, youth.lat);
      (spec.rings_km || []).forEach(function (km) {
        svg.appendChild(element("circle", {cx: centre[0], cy: centre[1], r: project.kmToPixels(km), fill: "none", stroke: "#1f5fa8",
                                           "stroke-dasharray": "6 5", "stroke-width": 1.2}));
        var label = element("text", {x: centre[0] + 3, y: centre[1] - project.kmToPixels(km) - 3, "class": "map-ring"});
        label.textContent = km + " km";
        svg.appendChild(label);
      });
    }
    (spec.points || []).forEach(function (p) {
      var at = project(p.lon, p.lat);
      var mark = p.kind === "youth"
        ? element("rect", {x: at[0] - 7, y: at[1] - 7, width: 14, height: 14, fill: "#1f5fa8", stroke: "#fff", "stroke-width": 2})
        : element("circle", {cx: at[0], cy: at[1], r: 7, fill: p.kind === "available" ? "#1d7a46" : "#5b6476", stroke: "#fff", "stroke-width": 2});
      mark.setAttribute("data-kind", p.kind);
      svg.appendChild(titled(mark, p.label));
    });
    holder.appendChild(svg);
    holder.setAttribute("data-drawn", "true");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var holders = document.querySelectorAll("[data-map]");
    if (!holders.length || !window.topojson) { return; }
    Array.prototype.forEach.call(holders, function (holder) {
      var spec = JSON.parse(document.getElementById(holder.getAttribute("data-map")).textContent);
      loadAtlas(holder.getAttribute("data-atlas")).then(function (topo) { draw(holder, topo, spec); });
    });
  });
}());
