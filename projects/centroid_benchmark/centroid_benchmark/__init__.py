from .centroid import NearestCentroid

__all__ = ['NearestCentroid']
