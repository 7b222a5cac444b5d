# tclsh run.tcl SCRIPT: sources the Vivado mock, then SCRIPT (as `vivado -mode batch -source`
# would), then writes the mock's summary. Any error ends tclsh with status 1 and the message.
source [file join [file dirname [file normalize [info script]]] vivado.tcl]
set script [lindex $argv 0]
set argv [lrange $argv 1 end]
if {[catch {uplevel #0 [list source $script]} msg]} {
    puts stderr "ERROR: $msg"
    exit 1
}
mock::finish
