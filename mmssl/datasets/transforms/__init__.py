from .formatting import PackInputs, image_to_tensor
from .loading import LoadImageFromFile
from .processing import ColorJitter, Lighting, RandomCrop, RandomResizedCrop, ResizeEdge
from .relative_loc import RandomRescalePixels, RelativeLocPatches

__all__ = ['PackInputs', 'image_to_tensor', 'LoadImageFromFile', 'ColorJitter', 'Lighting', 'RandomCrop',
           'RandomResizedCrop', 'ResizeEdge', 'RandomRescalePixels', 'RelativeLocPatches']
