// module Display
