import CLibFuzzer
import Foundation

// libFuzzer runs `fuzz` on each input (see the promises there); a broken promise stops with fatalError.
var arguments = CommandLine.argc
var values: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&arguments, &values) { data, size in fuzz(data!, size) })
