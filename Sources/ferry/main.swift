import FerryApp
import Foundation

exit(await FerryEntrypoint.main())
