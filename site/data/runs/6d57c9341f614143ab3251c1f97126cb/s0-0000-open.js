__trackio("runs/6d57c9341f614143ab3251c1f97126cb/s0-0000-open",
{"stream":"s","level":0,"index":0,"b0":0,"nb":2,"full":false,"t":[0.007,0.007],"v":{"cpu/percent":[10,12.5],"mem/used_gb":[1.5,null]}}
);
