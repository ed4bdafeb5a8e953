# Places205 low-shot SVM (FAIR benchmark): for k in {1, 2, 4, 8, 16, 32, 64, 96} and 5 samples, k train images per
# class; one-vs-all SVMs per class on the sample with the VOC07 SVM settings, tested on the whole val set.
# python -m mmssl.benchmarks lowshot_places205 CONFIG CHECKPOINT [--samples FAIR_SAMPLE_DIR]
# Only the sampled train images (drawn from the train list's labels) and the val images are extracted, as FAIR
# does (configs/benchmark_tasks/low_shot_image_classification/places205/*_low_shot_extract_features.yaml there:
# DATA_TRANSFORMS [scale, global_resize], SCALE 256, GLOBAL_RESIZE_VALUE 224, for train and val alike, i.e. the
# VOC07 SVM extraction: short side 256, squashed to 224x224, no crop): the VOC07 config with Places205's lists.
_base_ = '../voc07/resnet50_svm_voc07.py'

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'Places205'
# FAIR's cost list of the low-shot commands (1e-7 ... 100 and 2^-4 ... 2^-19).
lowshot_costs = 'voc07_26'

data_root = 'data/places205/'
image_prefix = dict(img_path='data/vision/torralba/deeplearning/images256/')
# 'trainval' is the train list, the pool the samples are drawn from; 'test' is the val list.
trainval_dataloader = dict(
    dataset=dict(_delete_=True, type='Places205', data_root=data_root,
                 ann_file='trainvalsplit_places205/train_places205.csv', data_prefix=image_prefix,
                 pipeline={{_base_.extract_pipeline}}))
test_dataloader = dict(
    dataset=dict(_delete_=True, type='Places205', data_root=data_root,
                 ann_file='trainvalsplit_places205/val_places205.csv', data_prefix=image_prefix,
                 pipeline={{_base_.extract_pipeline}}))
