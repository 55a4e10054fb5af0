"""The six KongfuMall services. None imports another; they meet only through events."""
