__trackio("runs/beeaadda5d694cce9fcdd0953932e7aa/m0-0000-open",
{"stream":"m","level":0,"index":0,"b0":0,"nb":5,"full":false,"s":[0,1,2,3,4],"t":[0.001,0.001,0.001,0.001,0.001],"v":{"train/loss":[0.5,0.49,0.48,0.47,0.46]}}
);
