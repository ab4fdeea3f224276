"""The report's stylesheet, inlined into the page (no external file, no web fonts)."""

from __future__ import annotations

__all__ = ["CSS"]

CSS = """
:root{--fg:#1d2330;--muted:#5b6475;--line:#d9dde5;--bg:#fff;--panel:#f6f7f9;
--pass:#0b7a43;--fail:#b3261e;--fault:#d55e00}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}
main{max-width:1000px;margin:0 auto;padding:24px 20px 60px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 10px;
border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:14px;margin:16px 0 6px}
.sub{color:var(--muted);margin:0 0 16px}
.headline{display:flex;align-items:center;gap:18px;flex-wrap:wrap;background:var(--panel);
border:1px solid var(--line);border-radius:8px;padding:14px 16px}
.verdict{font-size:26px;font-weight:700;color:#fff;padding:6px 16px;border-radius:6px}
.verdict.pass{background:var(--pass)}.verdict.fail{background:var(--fail)}
.score-box .label{font-size:11px;text-transform:uppercase;color:var(--muted)}
.score{font-size:22px;font-weight:700}
.story{flex:1 1 380px;margin:0;font-size:15px}
.facts{color:var(--muted)}
table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:var(--panel);font-weight:600}
.nowrap{white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.detail{color:var(--muted);font-size:12px}
.badge{display:inline-block;font-size:11px;font-weight:700;padding:1px 6px;border-radius:4px;
color:#fff;white-space:nowrap}
.badge.pass{background:var(--pass)}.badge.fail{background:var(--fail)}
.badge.not-measured{background:var(--muted);font-style:normal}
.bad{color:var(--fail);font-weight:600}
.not-measured{color:var(--muted);font-style:italic}
.warn{color:var(--fail)}
.note{color:var(--muted);font-size:12px;margin:4px 0}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:10px;
overflow:auto;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.chart-box{margin:14px 0 22px}
.chart-box figcaption strong{font-size:14px}
.chart-box.empty{border:1px dashed var(--line);border-radius:6px;padding:8px 12px}
svg.chart{width:100%;height:auto;display:block}
svg .grid{stroke:#eceef2}svg .axis{stroke:#9aa1ad}
svg .tick{font-size:11px;fill:var(--muted)}svg .axis-label{font-size:11px;fill:var(--muted)}
svg .phase{fill:#f3f4f7}svg .phase.alt{fill:#e9ebf0}
svg .band-label{font-size:10px;fill:var(--muted)}
svg .fault{fill:var(--fault);fill-opacity:.16;stroke:var(--fault);stroke-opacity:.5}
svg .line{fill:none;stroke-width:1.6}
svg .threshold{stroke:var(--fail);stroke-width:1.4;stroke-dasharray:6 4}
svg .thr-label{font-size:11px;fill:var(--fail)}
svg .dots circle{stroke:#fff;stroke-width:1}
svg .hover circle{fill-opacity:0}svg .hover circle:hover{fill-opacity:1}
svg .readout rect{fill:#000;fill-opacity:0}svg .readout rect:hover{fill-opacity:.06}
.next-steps li{margin:6px 0}.next-steps .badge{background:var(--muted)}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:var(--muted);margin:2px 0}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;
vertical-align:-2px}
.legend i.fault-key{background:var(--fault);opacity:.35}
.env-grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:0 20px}
.env-grid thead{display:none}
.provenance li{margin:2px 0}
footer{color:var(--muted);font-size:12px;margin-top:40px}
.trend-charts{display:flex;flex-wrap:wrap;gap:12px}
.chart-box.trend{flex:1 1 290px;margin:6px 0}
svg .dots.ring circle{stroke:var(--fg);stroke-width:2}
@media print{.chart-box{break-inside:avoid}}
"""
