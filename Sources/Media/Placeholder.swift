// module Media
