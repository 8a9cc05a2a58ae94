"""The judge<->runner protocol:
length-prefixed MessagePack frames, values as plain data, the channel, code objects.
"""
