# A stand-in for the Vivado Tcl commands the bundle's vivado/ scripts use, for tests under tclsh
# (generator/tests/vivado.rs). Each command checks its options against the ones UG835 documents
# for it (an unknown option is an error), checks its arguments against a model of the project
# and block design (IP catalog, each IP's pins, address segments), and records what it did.
# `mock::finish` checks the finished design and writes a summary the Rust test reads:
#   part P | board_part B | cell NAME VLNV | intf A B | net DRIVER SINK | addr SPACE SEG OFFSET RANGE
#   | irq INDEX PIN | file PATH
# Environment: MOCK_VIVADO_VERSION (default 2023.2), MOCK_WNS / MOCK_WHS (slack, default 0.1),
# MOCK_FAIL_RUN (synth_1 or impl_1: that run ends below 100%), MOCK_NO_BOARD_FILES, MOCK_SUMMARY.

namespace eval mock {
    variable version [expr {[info exists ::env(MOCK_VIVADO_VERSION)] ? $::env(MOCK_VIVADO_VERSION) : "2023.2"}]
    variable part ""
    variable board_part ""
    variable project_dir ""
    variable files {}
    variable cells [dict create]
    variable intf_conns {}
    variable net_conns {}
    variable driven [dict create]
    variable intf_used [dict create]
    variable addrs {}
    variable runs [dict create]
    variable bd ""
    variable core ""
    variable summary {}
    # The IP catalog of each Vivado release the scripts target (VLNVs with versions).
    variable catalog [dict create \
        2022.1 {xilinx.com:ip:processing_system7:5.5 xilinx.com:ip:zynq_ultra_ps_e:3.4 xilinx.com:ip:axi_dma:7.1 xilinx.com:ip:smartconnect:1.0 xilinx.com:ip:proc_sys_reset:5.0 xilinx.com:ip:xlconcat:2.1 xilinx.com:ip:xdma:4.1 xilinx.com:ip:clk_wiz:6.0 xilinx.com:ip:util_ds_buf:2.2 xilinx.com:ip:axis_clock_converter:1.1 xilinx.com:ip:axis_dwidth_converter:1.1} \
        2023.2 {xilinx.com:ip:processing_system7:5.5 xilinx.com:ip:zynq_ultra_ps_e:3.5 xilinx.com:ip:axi_dma:7.1 xilinx.com:ip:smartconnect:1.0 xilinx.com:ip:proc_sys_reset:5.0 xilinx.com:ip:xlconcat:2.1 xilinx.com:ip:xdma:4.1 xilinx.com:ip:clk_wiz:6.0 xilinx.com:ip:util_ds_buf:2.2 xilinx.com:ip:axis_clock_converter:1.1 xilinx.com:ip:axis_dwidth_converter:1.1} \
        2024.2 {xilinx.com:ip:processing_system7:5.5 xilinx.com:ip:zynq_ultra_ps_e:3.5 xilinx.com:ip:axi_dma:7.1 xilinx.com:ip:smartconnect:1.0 xilinx.com:ip:proc_sys_reset:5.0 xilinx.com:ip:xlconcat:2.1 xilinx.com:ip:xdma:4.1 xilinx.com:ip:clk_wiz:6.0 xilinx.com:ip:util_ds_buf:2.2 xilinx.com:ip:axis_clock_converter:1.1 xilinx.com:ip:axis_dwidth_converter:1.1}]
    variable board_parts {tul.com.tw:pynq-z2:part0:1.0 xilinx.com:zc706:part0:1.4 avnet.com:ultra96v2:part0:1.2 xilinx.com:zcu102:part0:3.4 xilinx.com:au250:part0:1.3 xilinx.com:au55c:part0:1.0}
    variable board_ifs {pcie_refclk pci_express_x16 pcie_perstn}
}

proc mock::say {line} {
    variable summary
    lappend summary $line
}

# Parses `args` of command `cmd`: `spec` is a list of {option takes-value}; `npos` {min max}
# positional arguments. Returns a dict with the options and `pos`.
proc mock::opts {cmd spec npos arglist} {
    set d [dict create pos {}]
    set takes [dict create]
    foreach {o v} $spec { dict set takes $o $v }
    for {set i 0} {$i < [llength $arglist]} {incr i} {
        set a [lindex $arglist $i]
        if {[string match -* $a] && ![string is double -strict $a]} {
            if {![dict exists $takes $a]} {
                error "mock: $cmd: option $a is not a $cmd option (UG835)"
            }
            if {[dict get $takes $a]} {
                incr i
                if {$i >= [llength $arglist]} { error "mock: $cmd: $a needs a value" }
                dict set d $a [lindex $arglist $i]
            } else {
                dict set d $a 1
            }
        } else {
            dict lappend d pos $a
        }
    }
    lassign $npos lo hi
    set n [llength [dict get $d pos]]
    if {$n < $lo || ($hi >= 0 && $n > $hi)} {
        error "mock: $cmd: $n positional arguments, expected $lo..$hi: $arglist"
    }
    return $d
}

proc mock::need {cond msg} {
    if {![uplevel 1 [list expr $cond]]} { error "mock: $msg" }
}

# --- version, project, files --------------------------------------------------------------------

proc version {args} {
    set o [mock::opts version {-short 0} {0 0} $args]
    return $mock::version
}

proc create_project {args} {
    set o [mock::opts create_project {-part 1 -force 0 -in_memory 0 -ip 0 -quiet 0} {0 2} $args]
    mock::need [dict exists $o -part] "create_project without -part"
    set mock::part [dict get $o -part]
    lassign [dict get $o pos] name dir
    set mock::project_dir [file normalize $dir]
    file mkdir $mock::project_dir
    mock::say "part $mock::part"
    return $name
}

proc set_part {args} {
    set o [mock::opts set_part {-quiet 0} {1 1} $args]
    set mock::part [lindex [dict get $o pos] 0]
    mock::say "part $mock::part"
}

proc current_project {args} {
    mock::opts current_project {-quiet 0} {0 1} $args
    return project
}
proc current_fileset {args} {
    mock::opts current_fileset {-quiet 0} {0 0} $args
    return sources_1
}
proc get_filesets {args} {
    mock::opts get_filesets {-quiet 0} {0 -1} $args
    return sources_1
}

proc get_board_parts {args} {
    set o [mock::opts get_board_parts {-quiet 0 -latest_file_version 0 -latest_hw_revision 0 -filter 1 -regexp 0 -nocase 0} {0 1} $args]
    if {[info exists ::env(MOCK_NO_BOARD_FILES)]} { return {} }
    set pat [lindex [dict get $o pos] 0]
    return [lsearch -all -inline -glob $mock::board_parts $pat]
}

proc mock::set_one {name value obj} {
    if {$name eq "board_part"} {
        mock::need {$obj eq "project"} "board_part on $obj"
        mock::need {[lsearch -exact $mock::board_parts $value] >= 0} "unknown board part $value"
        set vendor_board [join [lrange [split $value :] 0 1] :]
        set mock::board_part $value
        mock::say "board_part $value"
        return
    }
    if {[dict exists $mock::cells $obj]} {
        mock::need {[string match CONFIG.* $name]} "cell property $name is not CONFIG.*"
        dict set mock::cells $obj config [string range $name 7 end] $value
        return
    }
}

proc set_property {args} {
    set o [mock::opts set_property {-dict 1 -quiet 0} {1 3} $args]
    set pos [dict get $o pos]
    if {[dict exists $o -dict]} {
        mock::need {[llength $pos] == 1} "set_property -dict takes one object list"
        mock::need {[llength [dict get $o -dict]] % 2 == 0} "set_property -dict: odd list"
        foreach obj [lindex $pos 0] {
            foreach {n v} [dict get $o -dict] { mock::set_one $n $v $obj }
        }
    } else {
        mock::need {[llength $pos] == 3} "set_property NAME VALUE OBJECTS"
        lassign $pos n v objs
        mock::need {[llength $objs] > 0} "set_property $n on no object"
        foreach obj $objs { mock::set_one $n $v $obj }
    }
}

proc get_property {args} {
    set o [mock::opts get_property {-quiet 0 -min 0 -max 0} {2 2} $args]
    lassign [dict get $o pos] name obj
    switch -glob -- $obj {
        run:* {
            set run [string range $obj 4 end]
            switch -- $name {
                PROGRESS {
                    if {[info exists ::env(MOCK_FAIL_RUN)] && $::env(MOCK_FAIL_RUN) eq $run} { return "0%" }
                    mock::need {[dict exists $mock::runs $run]} "$run was never launched"
                    return "100%"
                }
                DIRECTORY { return [file join $mock::project_dir runs $run] }
                STATS.WNS { return [expr {[info exists ::env(MOCK_WNS)] ? $::env(MOCK_WNS) : 0.1}] }
                STATS.WHS { return [expr {[info exists ::env(MOCK_WHS)] ? $::env(MOCK_WHS) : 0.1}] }
            }
        }
        path:setup { return [expr {[info exists ::env(MOCK_WNS)] ? $::env(MOCK_WNS) : 0.1}] }
        path:hold { return [expr {[info exists ::env(MOCK_WHS)] ? $::env(MOCK_WHS) : 0.1}] }
        busif:* {
            lassign [split [string range $obj 6 end] /] b
            return [dict get $mock::core busifs $b]
        }
    }
    error "mock: get_property $name of $obj is not modelled"
}

proc add_files {args} {
    set o [mock::opts add_files {-norecurse 0 -fileset 1 -scan_for_includes 0 -quiet 0 -copy_to 1} {1 1} $args]
    foreach f [lindex [dict get $o pos] 0] {
        mock::need {[file isfile $f]} "add_files: no file $f"
        lappend mock::files [file normalize $f]
    }
}

proc get_files {args} {
    set o [mock::opts get_files {-all 0 -of_objects 1 -quiet 0 -compile_order 1 -used_in 1 -filter 1} {0 -1} $args]
    set out {}
    if {[dict exists $o -of_objects]} {
        foreach p [dict get $o pos] {
            lappend out {*}[glob -nocomplain -directory [file join $mock::project_dir gen] $p]
        }
        return $out
    }
    foreach pats [dict get $o pos] {
        foreach p $pats {
            set hits [lsearch -all -inline -glob $mock::files "*[file tail $p]"]
            mock::need {[llength $hits] > 0} "get_files $p matches no file of the project"
            lappend out {*}$hits
        }
    }
    return $out
}

proc update_compile_order {args} {
    mock::opts update_compile_order {-fileset 1 -quiet 0} {0 0} $args
}

# --- block design -----------------------------------------------------------------------------

proc create_bd_design {args} {
    set o [mock::opts create_bd_design {-dir 1 -quiet 0} {1 1} $args]
    set mock::bd [lindex [dict get $o pos] 0]
    set f [file join $mock::project_dir gen $mock::bd.bd]
    mock::touch $f
    lappend mock::files $f
}

# Pins of each IP: {name kind dir required}; kind aximm/axis/board for interfaces, clk/rst/intr/data
# for plain pins; dir M/S for interfaces, O/I for pins. `cfg` is the cell's configuration.
proc mock::pins {type cfg} {
    set p {}
    switch -- $type {
        processing_system7 {
            lappend p {M_AXI_GP0 aximm M 1} {S_AXI_HP0 aximm S 1} {DDR board M 1} {FIXED_IO board M 1}
            lappend p {FCLK_CLK0 clk O 0} {FCLK_RESET0_N rst O 0} {M_AXI_GP0_ACLK clk I 1} {S_AXI_HP0_ACLK clk I 1} {IRQ_F2P intr I 1}
        }
        zynq_ultra_ps_e {
            lappend p {M_AXI_HPM0_FPD aximm M 1} {S_AXI_HP0_FPD aximm S 1}
            lappend p {pl_clk0 clk O 0} {pl_resetn0 rst O 0} {maxihpm0_fpd_aclk clk I 1} {saxihp0_fpd_aclk clk I 1} {pl_ps_irq0 intr I 1}
        }
        axi_dma {
            lappend p {S_AXI_LITE aximm S 1} {M_AXI_MM2S aximm M 1} {M_AXI_S2MM aximm M 1} {M_AXIS_MM2S axis M 1} {S_AXIS_S2MM axis S 1}
            lappend p {s_axi_lite_aclk clk I 1} {m_axi_mm2s_aclk clk I 1} {m_axi_s2mm_aclk clk I 1} {axi_resetn rst I 1} {mm2s_introut intr O 1} {s2mm_introut intr O 1}
        }
        smartconnect {
            set si [expr {[dict exists $cfg NUM_SI] ? [dict get $cfg NUM_SI] : 1}]
            set mi [expr {[dict exists $cfg NUM_MI] ? [dict get $cfg NUM_MI] : 1}]
            set nc [expr {[dict exists $cfg NUM_CLKS] ? [dict get $cfg NUM_CLKS] : 1}]
            for {set i 0} {$i < $si} {incr i} { lappend p [list [format S%02d_AXI $i] aximm S 1] }
            for {set i 0} {$i < $mi} {incr i} { lappend p [list [format M%02d_AXI $i] aximm M 1] }
            lappend p {aclk clk I 1} {aresetn rst I 1}
            for {set i 1} {$i < $nc} {incr i} { lappend p [list aclk$i clk I 1] }
        }
        proc_sys_reset {
            lappend p {slowest_sync_clk clk I 1} {ext_reset_in rst I 1} {aux_reset_in rst I 0} {mb_debug_sys_rst rst I 0} {dcm_locked data I 0}
            lappend p {peripheral_aresetn rst O 0} {interconnect_aresetn rst O 0} {peripheral_reset rst O 0} {bus_struct_reset rst O 0} {mb_reset rst O 0}
        }
        xlconcat {
            set n [expr {[dict exists $cfg NUM_PORTS] ? [dict get $cfg NUM_PORTS] : 2}]
            for {set i 0} {$i < $n} {incr i} { lappend p [list In$i intr I 1] }
            lappend p {dout intr O 1}
        }
        xdma {
            lappend p {M_AXI_LITE aximm M 1} {M_AXIS_H2C_0 axis M 1} {S_AXIS_C2H_0 axis S 1} {pcie_mgt board M 1}
            lappend p {sys_clk clk I 1} {sys_clk_gt clk I 1} {sys_rst_n rst I 1} {axi_aclk clk O 1} {axi_aresetn rst O 1} {usr_irq_req intr I 1} {usr_irq_ack intr O 0}
        }
        util_ds_buf { lappend p {CLK_IN_D board S 1} {IBUF_OUT clk O 1} {IBUF_DS_ODIV2 clk O 1} }
        clk_wiz { lappend p {clk_in1 clk I 1} {resetn rst I 1} {clk_out1 clk O 1} {locked data O 1} }
        axis_clock_converter {
            lappend p {S_AXIS axis S 1} {M_AXIS axis M 1} {s_axis_aclk clk I 1} {s_axis_aresetn rst I 1} {m_axis_aclk clk I 1} {m_axis_aresetn rst I 1}
        }
        axis_dwidth_converter { lappend p {S_AXIS axis S 1} {M_AXIS axis M 1} {aclk clk I 1} {aresetn rst I 1} }
        module {
            # The accelerator's top level with its X_INTERFACE attributes (docs/vivado.md).
            lappend p {s_axil aximm S 1} {s_axis axis S 1} {m_axis axis M 1} {clk_i clk I 1} {rst_ni rst I 1} {irq_o intr O 1}
        }
        default { error "mock: no pin model for IP $type" }
    }
    return $p
}

proc create_bd_cell {args} {
    set o [mock::opts create_bd_cell {-type 1 -vlnv 1 -reference 1 -quiet 0} {1 1} $args]
    mock::need {$mock::bd ne ""} "create_bd_cell before create_bd_design"
    set name [lindex [dict get $o pos] 0]
    mock::need {![dict exists $mock::cells $name]} "cell $name exists"
    set type [dict get $o -type]
    if {$type eq "ip"} {
        set vlnv [dict get $o -vlnv]
        mock::need {[lsearch -exact [dict get $mock::catalog $mock::version] $vlnv] >= 0} \
            "create_bd_cell: $vlnv is not in the Vivado $mock::version catalog"
        set ip [lindex [split $vlnv :] 2]
    } elseif {$type eq "module"} {
        set ref [dict get $o -reference]
        set found 0
        foreach f $mock::files {
            if {[string match *.v $f]} {
                set fh [open $f]; set text [read $fh]; close $fh
                if {[regexp "(^|\n)module $ref\\M" $text]} { set found 1 }
            }
        }
        mock::need $found "create_bd_cell -reference $ref: no module $ref in the project's sources"
        set vlnv module:$ref
        set ip module
    } else {
        error "mock: create_bd_cell -type $type"
    }
    dict set mock::cells $name [dict create ip $ip vlnv $vlnv config [dict create] board {}]
    mock::say "cell $name $vlnv"
    return $name
}

proc get_bd_cells {args} {
    set o [mock::opts get_bd_cells {-quiet 0 -hierarchical 0 -filter 1 -of_objects 1} {0 1} $args]
    set n [lindex [dict get $o pos] 0]
    mock::need {[dict exists $mock::cells $n]} "get_bd_cells: no cell $n"
    return $n
}

proc mock::pin {path} {
    lassign [split $path /] cell pin
    mock::need {[dict exists $mock::cells $cell]} "no cell $cell (pin $path)"
    set c [dict get $mock::cells $cell]
    foreach p [mock::pins [dict get $c ip] [dict get $c config]] {
        if {[lindex $p 0] eq $pin} { return $p }
    }
    error "mock: cell $cell ([dict get $c vlnv]) has no pin $pin"
}

proc get_bd_pins {args} {
    set o [mock::opts get_bd_pins {-quiet 0 -of_objects 1 -filter 1 -hierarchical 0} {1 1} $args]
    set path [lindex [dict get $o pos] 0]
    set p [mock::pin $path]
    mock::need {[lindex $p 1] ni {aximm axis board}} "get_bd_pins $path is an interface pin"
    return $path
}

proc get_bd_intf_pins {args} {
    set o [mock::opts get_bd_intf_pins {-quiet 0 -of_objects 1 -filter 1 -hierarchical 0} {1 1} $args]
    set path [lindex [dict get $o pos] 0]
    set p [mock::pin $path]
    mock::need {[lindex $p 1] in {aximm axis board}} "get_bd_intf_pins $path is not an interface pin"
    return $path
}

proc connect_bd_intf_net {args} {
    set o [mock::opts connect_bd_intf_net {-boundary_type 1 -intf_net 1 -quiet 0} {2 2} $args]
    lassign [dict get $o pos] a b
    set pa [mock::pin $a]; set pb [mock::pin $b]
    mock::need {[lindex $pa 1] eq [lindex $pb 1]} "connect_bd_intf_net $a ([lindex $pa 1]) to $b ([lindex $pb 1])"
    mock::need {[lindex $pa 2] eq "M" && [lindex $pb 2] eq "S"} "connect_bd_intf_net $a -> $b is not master -> slave"
    foreach x [list $a $b] {
        mock::need {![dict exists $mock::intf_used $x]} "interface $x connected twice"
        dict set mock::intf_used $x 1
    }
    mock::say "intf $a $b"
}

proc connect_bd_net {args} {
    set o [mock::opts connect_bd_net {-net 1 -boundary_type 1 -quiet 0} {2 -1} $args]
    set pins [dict get $o pos]
    set drv [lindex $pins 0]
    set pd [mock::pin $drv]
    mock::need {[lindex $pd 2] eq "O"} "connect_bd_net: $drv is not an output"
    foreach s [lrange $pins 1 end] {
        set ps [mock::pin $s]
        mock::need {[lindex $ps 2] eq "I"} "connect_bd_net: $s is not an input"
        mock::need {![dict exists $mock::driven $s]} "connect_bd_net: $s driven twice"
        mock::need {[lindex $pd 1] eq [lindex $ps 1] || [lindex $pd 1] eq "data" || [lindex $ps 1] eq "data"} \
            "connect_bd_net: $drv ([lindex $pd 1]) drives $s ([lindex $ps 1])"
        dict set mock::driven $s $drv
        mock::say "net $drv $s"
    }
    dict set mock::driven $drv used
}

proc apply_bd_automation {args} {
    set o [mock::opts apply_bd_automation {-rule 1 -config 1 -dict 1 -opts 1} {1 1} $args]
    set cell [lindex [dict get $o pos] 0]
    set rule [dict get $o -rule]
    set ip [dict get $mock::cells $cell ip]
    mock::need {$rule eq "xilinx.com:bd_rule:$ip"} "apply_bd_automation rule $rule on a $ip"
    mock::need {$mock::board_part ne ""} "apply_board_preset without a board part"
    mock::need {[llength [dict get $o -config]] % 2 == 0} "apply_bd_automation -config is not a dict"
    foreach p {DDR FIXED_IO} {
        if {![catch {mock::pin $cell/$p}]} { dict set mock::intf_used $cell/$p 1 }
    }
}

proc apply_board_connection {args} {
    set o [mock::opts apply_board_connection {-board_interface 1 -ip_intf 1 -diagram 1} {0 0} $args]
    mock::need {$mock::board_part ne ""} "apply_board_connection without a board part"
    mock::need {[dict get $o -board_interface] in $mock::board_ifs} "unknown board interface [dict get $o -board_interface]"
    mock::need {[dict get $o -diagram] eq $mock::bd} "apply_board_connection -diagram [dict get $o -diagram]"
    set intf [dict get $o -ip_intf]
    if {[regexp {^([^/]+)/RST\.(.+)$} $intf -> cell pin]} {
        set path $cell/$pin
        mock::pin $path
        dict set mock::driven $path board
    } else {
        set path $intf
        set p [mock::pin $path]
        mock::need {[lindex $p 1] eq "board"} "apply_board_connection to $path ([lindex $p 1])"
        dict set mock::intf_used $path 1
    }
}

# Address spaces (masters) and segments (slaves) of the design.
proc get_bd_addr_spaces {args} {
    set o [mock::opts get_bd_addr_spaces {-quiet 0 -of_objects 1 -filter 1} {1 1} $args]
    set s [lindex [dict get $o pos] 0]
    lassign [split $s /] cell space
    set ip [dict get $mock::cells $cell ip]
    set known [dict create processing_system7 {Data} zynq_ultra_ps_e {Data} axi_dma {Data_MM2S Data_S2MM} xdma {M_AXI_LITE}]
    mock::need {[dict exists $known $ip] && $space in [dict get $known $ip]} "no address space $s"
    return space:$s
}

proc get_bd_addr_segs {args} {
    set o [mock::opts get_bd_addr_segs {-quiet 0 -of_objects 1 -filter 1} {1 1} $args]
    set s [lindex [dict get $o pos] 0]
    lassign [split $s /] cell intf seg
    set ip [dict get $mock::cells $cell ip]
    set known [dict create module {s_axil/reg0} axi_dma {S_AXI_LITE/Reg} \
        processing_system7 {S_AXI_HP0/HP0_DDR_LOWOCM} zynq_ultra_ps_e {S_AXI_HP0_FPD/HP0_DDR_LOW}]
    set hits [lsearch -all -inline -glob [expr {[dict exists $known $ip] ? [dict get $known $ip] : {}}] $intf/$seg]
    mock::need {[llength $hits] > 0} "no address segment $s"
    set out {}
    foreach h $hits { lappend out seg:$cell/$h }
    return $out
}

proc assign_bd_address {args} {
    set o [mock::opts assign_bd_address {-offset 1 -range 1 -target_address_space 1 -force 0 -boundary 0 -external 0 -export_to_file 1 -import_from_file 1 -quiet 0 -verbose 0} {0 1} $args]
    mock::need {[dict exists $o -target_address_space]} "assign_bd_address without -target_address_space"
    set space [string range [dict get $o -target_address_space] 6 end]
    set segs [lindex [dict get $o pos] 0]
    mock::need {[llength $segs] == 1} "assign_bd_address of [llength $segs] segments"
    set seg [string range [lindex $segs 0] 4 end]
    if {![dict exists $o -offset]} {
        mock::say "addr $space $seg auto auto"
        return
    }
    set off [expr {[dict get $o -offset]}]
    set range [expr {[dict get $o -range]}]
    mock::need {$range > 0 && ($range & ($range - 1)) == 0} "range [dict get $o -range] is not a power of two"
    mock::need {$off % $range == 0} "offset [dict get $o -offset] is not aligned to its range"
    foreach a $mock::addrs {
        lassign $a sp sg of rg
        if {$sp eq $space && $off < $of + $rg && $of < $off + $range} {
            error "mock: $seg at [format 0x%x $off] overlaps $sg at [format 0x%x $of] in $space"
        }
    }
    lappend mock::addrs [list $space $seg $off $range]
    mock::say [format "addr %s %s 0x%x 0x%x" $space $seg $off $range]
}

proc validate_bd_design {args} {
    mock::opts validate_bd_design {-force 0 -design 1 -quiet 0} {0 0} $args
    mock::check_design
    file mkdir [file join $mock::project_dir gen]
    set f [open [file join $mock::project_dir gen $mock::bd.hwh] w]; puts $f "<hwh/>"; close $f
}
proc save_bd_design {args} { mock::opts save_bd_design {-quiet 0} {0 1} $args }

proc make_wrapper {args} {
    set o [mock::opts make_wrapper {-files 1 -top 0 -import 0 -fileset 1 -testbench 0 -inst_template 0 -force 0} {0 0} $args]
    mock::need {[dict exists $o -top]} "make_wrapper without -top"
    set w [file join $mock::project_dir gen ${mock::bd}_wrapper.v]
    set f [open $w w]; puts $f "module ${mock::bd}_wrapper; endmodule"; close $f
    return $w
}

# Every required pin of every cell is connected; the accelerator's above all.
proc mock::check_design {} {
    dict for {cell c} $mock::cells {
        foreach p [mock::pins [dict get $c ip] [dict get $c config]] {
            lassign $p pin kind dir required
            set path $cell/$pin
            if {!$required} continue
            if {$kind in {aximm axis board}} {
                mock::need {[dict exists $mock::intf_used $path]} "interface $path is not connected"
            } elseif {$dir eq "I"} {
                mock::need {[dict exists $mock::driven $path]} "input $path is not driven"
            } else {
                mock::need {[dict exists $mock::driven $path]} "output $path drives nothing"
            }
        }
    }
}

# --- runs and reports ---------------------------------------------------------------------------

proc get_runs {args} {
    set o [mock::opts get_runs {-quiet 0 -filter 1} {1 1} $args]
    return run:[lindex [dict get $o pos] 0]
}
proc launch_runs {args} {
    set o [mock::opts launch_runs {-jobs 1 -to_step 1 -next_step 0 -pre_launch_script 1 -force 0 -scripts_only 0 -quiet 0} {1 -1} $args]
    mock::need {[dict exists $o -jobs] && [string is integer -strict [dict get $o -jobs]]} "launch_runs without a numeric -jobs"
    foreach r [dict get $o pos] {
        dict set mock::runs $r 1
        set dir [file join $mock::project_dir runs $r]
        file mkdir $dir
        if {$r eq "impl_1"} {
            mock::need {[dict get $o -to_step] eq "write_bitstream"} "impl_1 not run to write_bitstream"
            set f [open [file join $dir ${mock::bd}_wrapper.bit] w]; puts $f bit; close $f
        }
    }
}
proc wait_on_run {args} {
    set o [mock::opts wait_on_run {-timeout 1 -quiet 0} {1 1} $args]
    mock::need {[dict exists $mock::runs [lindex [dict get $o pos] 0]]} "wait_on_run before launch_runs"
}
proc open_run {args} {
    set o [mock::opts open_run {-name 1 -quiet 0} {1 1} $args]
    mock::need {[dict exists $mock::runs [lindex [dict get $o pos] 0]]} "open_run of a run never launched"
}

proc mock::touch {path} {
    file mkdir [file dirname $path]
    set f [open $path w]; puts $f "mock"; close $f
    mock::say "file $path"
}
proc report_utilization {args} {
    set o [mock::opts report_utilization {-file 1 -hierarchical 0 -name 1 -append 0 -cells 1 -quiet 0} {0 0} $args]
    mock::touch [dict get $o -file]
}
proc report_timing_summary {args} {
    set o [mock::opts report_timing_summary {-file 1 -max_paths 1 -delay_type 1 -report_unconstrained 0 -name 1 -quiet 0} {0 0} $args]
    mock::touch [dict get $o -file]
}
proc write_hw_platform {args} {
    set o [mock::opts write_hw_platform {-fixed 0 -include_bit 0 -force 0 -file 1 -minimal 0 -quiet 0} {0 0} $args]
    mock::touch [dict get $o -file]
}
proc write_cfgmem {args} {
    set o [mock::opts write_cfgmem {-format 1 -interface 1 -size 1 -loadbit 1 -disablebitswap 0 -force 0 -file 1 -quiet 0} {0 1} $args]
    mock::need {[dict get $o -format] eq "bin"} "write_cfgmem -format"
    lassign [dict get $o -loadbit] dir addr bit
    mock::need {$dir eq "up" && [file isfile $bit]} "write_cfgmem -loadbit [dict get $o -loadbit]"
    mock::touch [lindex [dict get $o pos] 0]
}

# --- IP packaging -------------------------------------------------------------------------------
namespace eval ipx {}

proc ipx::package_project {args} {
    set o [mock::opts ipx::package_project {-root_dir 1 -vendor 1 -library 1 -taxonomy 1 -import_files 0 -set_current 1 -force 0 -generated_files 0 -module 1} {0 0} $args]
    set root [dict get $o -root_dir]
    file mkdir $root
    set f [open [file join $root component.xml] w]; puts $f "<component/>"; close $f
    # Bus interfaces from the X_INTERFACE_INFO attributes of the top's ports.
    set busifs [dict create]
    foreach src $mock::files {
        if {![string match *.v $src]} continue
        set fh [open $src]; set text [read $fh]; close $fh
        foreach {all vlnv bus sig dir} [regexp -all -inline {X_INTERFACE_INFO = "xilinx.com:(\S+) (\S+) (\S+)" \*\)\s*(?:\(\*[^*]*\*\)\s*)*(input|output)} $text] {
            if {[dict exists $busifs $bus]} continue
            set mode [expr {$dir eq "input" ? "slave" : "master"}]
            if {$sig eq "TREADY" || $sig eq "AWREADY"} {
                set mode [expr {$dir eq "output" ? "slave" : "master"}]
            }
            dict set busifs $bus $mode
        }
    }
    set mock::core [dict create root $root busifs $busifs maps {}]
    mock::say "ipcore $root"
}
proc ipx::open_core {args} {
    set o [mock::opts ipx::open_core {-set_current 1} {1 1} $args]
    mock::need {[file isfile [lindex [dict get $o pos] 0]]} "ipx::open_core: no component.xml"
    return core
}
proc ipx::get_bus_interfaces {args} {
    set o [mock::opts ipx::get_bus_interfaces {-of_objects 1 -quiet 0} {0 1} $args]
    set b [lindex [dict get $o pos] 0]
    if {[dict exists $mock::core busifs $b]} { return busif:$b }
    return {}
}
proc ipx::get_memory_maps {args} {
    set o [mock::opts ipx::get_memory_maps {-of_objects 1 -quiet 0} {0 1} $args]
    set m [lindex [dict get $o pos] 0]
    if {[dict exists $mock::core busifs $m]} { return map:$m }
    return {}
}
proc ipx::add_memory_map {args} {
    set o [mock::opts ipx::add_memory_map {-quiet 0} {2 2} $args]
    return map:[lindex [dict get $o pos] 0]
}
proc ipx::get_address_blocks {args} {
    mock::opts ipx::get_address_blocks {-of_objects 1 -quiet 0} {0 1} $args
    return {}
}
proc ipx::add_address_block {args} {
    set o [mock::opts ipx::add_address_block {-quiet 0} {2 2} $args]
    return block:[lindex [dict get $o pos] 0]
}
proc ipx::create_xgui_files {args} { mock::opts ipx::create_xgui_files {} {1 1} $args }
proc ipx::update_checksums {args} { mock::opts ipx::update_checksums {} {1 1} $args }
proc ipx::check_integrity {args} { mock::opts ipx::check_integrity {-quiet 0 -kernel 0} {1 1} $args }
proc ipx::save_core {args} { mock::opts ipx::save_core {} {1 1} $args; mock::say "ipsaved" }

# --- non-project (out-of-context) flow ------------------------------------------------------------

proc read_verilog {args} {
    set o [mock::opts read_verilog {-sv 0 -library 1 -quiet 0} {1 1} $args]
    foreach f [lindex [dict get $o pos] 0] {
        mock::need {[file isfile $f]} "read_verilog: no file $f"
        lappend mock::files [file normalize $f]
    }
}
proc read_mem {args} {
    set o [mock::opts read_mem {-quiet 0} {1 1} $args]
    foreach f [lindex [dict get $o pos] 0] {
        mock::need {[file isfile $f]} "read_mem: no file $f"
    }
}
proc synth_design {args} {
    set o [mock::opts synth_design {-top 1 -part 1 -mode 1 -include_dirs 1 -flatten_hierarchy 1 -directive 1 -quiet 0} {0 0} $args]
    mock::need {[dict get $o -mode] eq "out_of_context"} "synth_design -mode"
    mock::need {[dict get $o -part] eq $mock::part} "synth_design -part differs from set_part"
    mock::say "synth [dict get $o -top]"
}
proc get_ports {args} {
    set o [mock::opts get_ports {-quiet 0 -filter 1} {1 1} $args]
    return port:[lindex [dict get $o pos] 0]
}
proc create_clock {args} {
    set o [mock::opts create_clock {-name 1 -period 1 -waveform 1 -add 0 -quiet 0} {0 1} $args]
    mock::say "clock [dict get $o -period] [lindex [dict get $o pos] 0]"
}
foreach c {opt_design place_design phys_opt_design route_design} {
    proc $c {args} "mock::opts $c {-directive 1 -quiet 0} {0 0} \$args; mock::say {step $c}"
}
proc get_timing_paths {args} {
    set o [mock::opts get_timing_paths {-max_paths 1 -nworst 1 -setup 0 -hold 0 -delay_type 1 -quiet 0} {0 0} $args]
    return [expr {[dict exists $o -hold] ? "path:hold" : "path:setup"}]
}
proc write_checkpoint {args} {
    set o [mock::opts write_checkpoint {-force 0 -quiet 0} {1 1} $args]
    mock::touch [lindex [dict get $o pos] 0]
}

# get_ipdefs: the catalog of the mocked release.
proc get_ipdefs {args} {
    set o [mock::opts get_ipdefs {-all 0 -quiet 0 -filter 1 -regexp 0} {0 1} $args]
    return [lsearch -all -inline -glob [dict get $mock::catalog $mock::version] [lindex [dict get $o pos] 0]]
}

# Writes the summary after the script ran to its end.
proc mock::finish {} {
    set f [open $::env(MOCK_SUMMARY) w]
    foreach l $mock::summary { puts $f $l }
    puts $f "end"
    close $f
}
