// A queued import's page reloads itself while the import is queued or running
// (admin/import_queued.html); the page says so and offers a link to check at once.
window.setTimeout(function () { window.location.reload(); }, 5000);
