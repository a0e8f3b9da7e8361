"""Host-side conversion of trained Keras models to int8 LiteRT models (needs the 'train' extra)."""
