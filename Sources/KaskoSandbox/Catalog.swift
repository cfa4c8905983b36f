// The sandbox's fixed product catalog (contract 14): one travel product
// with two subscription plans, and one integration whose pricing is never
// ready (always 409), so that clients can see every documented answer of
// POST /quotes. Printed by --help.

enum Catalog {
    static let travelIntegration = "in_sandbox_travel"
    static let travelItem = "ins_sandbox_travel"
    /// Answers every quote with 409: "pricing logic is being created".
    static let buildingIntegration = "in_sandbox_building"

    static let distributorId = "dis_sandbox"
    static let insurerId = "insr_sandbox"
    static let currency = "eur"

    /// The item each priced integration sells.
    static let itemOfIntegration = [travelIntegration: travelItem]

    enum Plan: String, Sendable {
        case single = "pp_sandbox_single"
        case annual = "pp_sandbox_annual"

        /// How long a policy bought on the plan runs from its start date.
        func endDay(from start: CalendarDay) -> CalendarDay {
            switch self {
            case .single: return start.addingDays(30)
            case .annual: return start.addingOneYear()
            }
        }
    }

    static let tripCostRange = 1...10_000_000
}
