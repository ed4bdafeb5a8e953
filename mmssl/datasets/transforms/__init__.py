from .formatting import PackInputs, image_to_tensor
from .processing import ColorJitter, Lighting, RandomCrop, RandomResizedCrop, ResizeEdge
from .relative_loc import RandomRescalePixels, RelativeLocPatches

__all__ = ['PackInputs', 'image_to_tensor', 'ColorJitter', 'Lighting', 'RandomCrop', 'RandomResizedCrop', 'ResizeEdge',
           'RandomRescalePixels', 'RelativeLocPatches']
