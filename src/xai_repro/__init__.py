"""xai-repro: the science of four explainable-AI reproductions, one subpackage per study."""
