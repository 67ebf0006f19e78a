import Foundation

/// One notification channel's form (its secret never shown) and the policies sending
/// through it.
enum ChannelPage {
    struct Model: Equatable {
        var channel: ChannelDTO
        var editor: ChannelForm.State
        /// The names of the policies that send through it (as a channel or to owners).
        var usedBy: [String] = []
    }
}
