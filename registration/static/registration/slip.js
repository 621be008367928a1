// The slip's print button (no inline handlers under the CSP).
document.querySelectorAll("[data-linli-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
