// module Signaling
