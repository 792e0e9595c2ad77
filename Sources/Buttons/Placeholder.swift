// module Buttons
