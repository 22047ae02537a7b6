// Starts GOV.UK Frontend's components (error summary focus, service navigation toggle...).
import { initAll } from '/static/govuk-frontend/govuk-frontend.min.js';
initAll();
