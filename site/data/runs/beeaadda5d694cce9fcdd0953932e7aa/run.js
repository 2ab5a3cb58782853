__trackio("runs/beeaadda5d694cce9fcdd0953932e7aa",
{"format":1,"id":"beeaadda5d694cce9fcdd0953932e7aa","name":"résumé 🚀 run 2","group":null,"status":"finished","created_at":"2026-11-30T08:45:47.350156+00:00","finished_at":"2026-11-30T08:45:47.351704+00:00","t0":1796028347.350156,"config":{"_Username":null,"_Created":"2026-11-30T08:45:47.350156+00:00","_Group":null},"streams":{"m":{"rows":5,"level":0,"w":1,"chunks":["m0-0000-open.js"],"open_rev":"37ae11693b46"}},"alerts":[],"alerts_total":0}
);
