import Foundation
import IncidentControl

// Everything happens in IncidentControl (testable); this only connects it to the process.
let status = await Incidentctl.invoke(
    Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment, console: .standard)
exit(status)
