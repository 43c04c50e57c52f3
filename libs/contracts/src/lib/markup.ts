/**
 * Text escaped for HTML, XML and SVG (element content and quoted attributes alike): the reports
 * Vigil renders itself, the monthly report (libs/server) and the load and scenario reports
 * (libs/simulation), put registry names and user text into markup through this one function.
 */
export function escapeMarkup(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
