# NPID with negatives that never include the sample's own bank entry, as mmselfsup 0.x/1.x
# configs/selfsup/npid/npid-ensure-neg_resnet50_8xb32-steplr-200e_in1k.py.
_base_ = 'npid_resnet50_8xb32-steplr-200e_in1k.py'

model = dict(ensure_neg=True)
