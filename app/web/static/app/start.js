// Starts GOV.UK Frontend's components (error summary focus, service navigation toggle...).
import { initAll } from '/static/govuk-frontend/govuk-frontend.min.js';
initAll();

// A table wider than the screen scrolls inside its wrapper: make each such region reachable
// by keyboard and named by its table's caption (WCAG 2.1.1; axe's scrollable-region-focusable).
for (const region of document.querySelectorAll('.app-table-wrapper:not([tabindex])')) {
  const caption = region.querySelector('caption');
  region.setAttribute('tabindex', '0');
  region.setAttribute('role', 'region');
  region.setAttribute('aria-label', (caption && caption.textContent.trim().split('\n')[0]) || 'Table');
}
