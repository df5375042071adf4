/** Every output format from the canonical JSON report. */
import { renderHtml } from './html';
import { renderJunit } from './junit';
import { renderMarkdown } from './markdown';
import type { ConformanceReport } from './schema';
import { REPORT_FILES } from './write';

export type ReportFormat = 'json' | 'md' | 'html' | 'junit';
export const REPORT_FORMATS: readonly ReportFormat[] = ['json', 'md', 'html', 'junit'];

export function renderJson(report: ConformanceReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

export function render(report: ConformanceReport, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'md':
      return renderMarkdown(report);
    case 'html':
      return renderHtml(report);
    case 'junit':
      return renderJunit(report);
  }
}

/** File name → content for a report directory (report.json, report.md, report.html, junit.xml). */
export function renderAll(report: ConformanceReport): Record<string, string> {
  return {
    [REPORT_FILES.json]: renderJson(report),
    [REPORT_FILES.md]: renderMarkdown(report),
    [REPORT_FILES.html]: renderHtml(report),
    [REPORT_FILES.junit]: renderJunit(report),
  };
}
