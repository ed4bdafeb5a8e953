"""Constants of the benchmark protocols that several layers must agree on (models, extraction, SVMs, tables).

Every module that needs one of these imports it from here; nothing else spells them out. The values are those of
the toolboxes' benchmarks: the names of the five ResNet taps (their channels, strides and pooling are declared by
the backbone, :mod:`mmssl.models.backbones.resnet`), the low-shot sample sizes and the kNN settings of mmselfsup 1.x
(``configs/benchmarks/classification/knn_imagenet``).
This module is the package's lowest floor: it imports nothing, so any layer can use it.
"""

#: Names of the ResNet taps, in network order: feature1 = stem (conv1 → BN → ReLU), feature2..5 = layer1..layer4.
#: Models read their taps from the backbone's declaration, not from here.
LAYERS = ('feature1', 'feature2', 'feature3', 'feature4', 'feature5')

#: Feature rows are normalised as x / (‖x‖ + FEATURE_NORM_EPS) before SVMs and kNN.
FEATURE_NORM_EPS = 1e-5

#: Positives per class (k) of the low-shot SVM protocols.
LOWSHOT_SHOTS = (1, 2, 4, 8, 16, 32, 64, 96)

#: Independent low-shot samples per k.
LOWSHOT_NUM_SAMPLES = 5

#: Neighbour counts and softmax temperature of the kNN benchmark.
KNN_KS = (10, 20, 100, 200)
KNN_TEMPERATURE = 0.07

#: The 20 PASCAL VOC classes, in the devkit's order (the columns of VOC07 label matrices).
VOC_CLASSES = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow', 'diningtable',
               'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor')

#: Seed of the randomly initialised backbone that every benchmark of a baseline row evaluates.
RANDOM_INIT_SEED = 0

#: How a command line names a randomly initialised backbone instead of a checkpoint file.
RANDOM_INIT = 'none'
