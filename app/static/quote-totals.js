// Live totals of the quote form: each line's value before VAT and the quote's totals, while
// sales type (plain script, no build). The server recomputes everything on saving and its
// figures are the quote's; this only spares saving to see a total. Amounts are reckoned in
// cents and rounded half up, as the server rounds.
"use strict";
(function () {
  var table = document.getElementById("quote-lines");
  var box = document.getElementById("quote-totals");
  if (!table || !box) {
    return;
  }
  var catalogue = JSON.parse(table.getAttribute("data-catalogue") || "{}");
  var money = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR" });
  // "1 234,56", "1234.56", "12": what the server's French number field accepts.
  var number = function (text) {
    var cleaned = (text || "").replace(/[\s\u00a0\u202f]/g, "").replace(",", ".");
    if (cleaned === "" || !/^-?\d+(\.\d+)?$/.test(cleaned)) {
      return null;
    }
    return parseFloat(cleaned);
  };
  var half = function (x) {
    return Math.sign(x) * Math.round(Math.abs(x) + 1e-9);
  };
  var cents = function (euros) {
    return half(euros * 100);
  };
  var value = function (row, name) {
    var cell = row.querySelector('[data-field="' + name + '"]');
    var input = cell && cell.querySelector("input, select");
    return input ? input.value : "";
  };
  var off = function (kind, raw, gross) {
    var amount = number(raw);
    if (kind === "percent" && amount !== null) {
      return half((gross * amount) / 100);
    }
    if (kind === "amount" && amount !== null) {
      return cents(amount);
    }
    return 0;
  };
  var update = function () {
    var net = 0;
    var vat = 0;
    var counted = 0;
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var product = catalogue[value(row, "product")];
      var quantity = number(value(row, "quantity"));
      var price = number(value(row, "unit_price"));
      if (price === null && product) {
        price = number(product.price);
      }
      var rate = number(product ? product.vat : value(row, "vat_rate")) || 0;
      var output = row.querySelector("[data-line-total]");
      if (quantity === null || price === null) {
        output.textContent = "—";
        return;
      }
      var gross = cents(quantity * price);
      var line = gross - off(value(row, "discount_kind"), value(row, "discount_value"), gross);
      output.textContent = money.format(line / 100);
      net += line;
      vat += (line * rate) / 100;
      counted += 1;
    });
    var kind = document.getElementById("global_discount_kind");
    var raw = document.getElementById("global_discount_value");
    var global = off(kind ? kind.value : "none", raw ? raw.value : "", net);
    var after = net - global;
    // the global discount lowers each line's base in proportion, and so the VAT
    var tax = net === 0 ? 0 : half((vat * after) / net);
    document.getElementById("total-excl").textContent = money.format(after / 100);
    document.getElementById("total-vat").textContent = money.format(tax / 100);
    document.getElementById("total-incl").textContent = money.format((after + tax) / 100);
    box.hidden = counted === 0;
  };
  table.closest("form").addEventListener("input", update);
  table.closest("form").addEventListener("change", update);
  update();
})();
