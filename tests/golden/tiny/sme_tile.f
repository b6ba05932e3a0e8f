sme_tile_pkg.sv
sme_xbar.sv
sme_gather.sv
sme_adc.sv
sme_splice.sv
sme_accum.sv
sme_ctrl.sv
sme_tile.sv
