import Foundation

/// The notification channels health policies send through (`settings:admin`): each with its
/// kind, language, state and whether its secret is stored; below, the form that adds one.
enum ChannelsPage {
    struct Model: Equatable {
        var channels: [ChannelDTO] = []
        /// The add form (what was sent, with what was wrong, when a save failed).
        var editor = ChannelForm.State()
        var flash: String?
        /// Why a delete was refused (a policy sends through the channel).
        var error: String?
    }
}
