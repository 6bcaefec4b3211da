// studio-boot.js — loads the staff console: the Leptos app (wasm) the
// page's config names. The app mounts itself into #studio when it starts.
const status = document.querySelector('[data-testid="studio-loading"]');
try {
  const config = JSON.parse(document.getElementById('studio-config').textContent);
  const app = await import(config.appJs);
  await app.default({ module_or_path: config.appWasm });
} catch (e) {
  if (status) status.textContent = 'The console could not start. Reload the page to try again.';
  throw e;
}
