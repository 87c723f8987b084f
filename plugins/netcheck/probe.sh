#!/bin/sh
# probe.sh — the probe of kubectl cclm netcheck. POSIX shell; runs in a pod on
# one node of one cluster, attached to the migration network, and tests every
# peer address of its plan. The contract (plan and output lines) is in
# man/kubectl-cclm-netcheck.1, "PROBE PROTOCOL".
#
# The plan comes in the environment, CCLM_NETCHECK_PLAN, as compact JSON:
#   {"version":1,"node":"N","iface":"migration0","mtu":1500,"timeout":2,
#    "targets":[{"ip":"A","port":9185,"tests":"tcp icmp arp mtu"},...]}
# One line per test on stdout:
#   cclm-netcheck/1 test=T dst=A [port=P] [size=S [max=M]] result=ok|fail|unsupported ms=N detail=TEXT
# framed by a "start" and a "done" line. A tool the image lacks makes its
# test "unsupported", never "fail". Exits 0 when the plan could be read.

P=cclm-netcheck/1
plan=${CCLM_NETCHECK_PLAN:-}

has() { command -v "$1" >/dev/null 2>&1; }

# str KEY TEXT / num KEY TEXT: a member of flat JSON text
str() { printf '%s\n' "$2" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" | head -n 1; }
num() { printf '%s\n' "$2" | sed -n "s/.*\"$1\":\([0-9][0-9]*\).*/\1/p" | head -n 1; }

now_ms() {
	t=$(date +%s%N 2>/dev/null)
	case $t in
	*[!0-9]* | '') echo $(($(date +%s) * 1000)) ;;
	*) echo $((t / 1000000)) ;;
	esac
}

# one line of text, at most 200 characters, for detail=
oneline() { tr '\n\t' '  ' | sed 's/  */ /g; s/^ //; s/ $//' | cut -c1-200; }

# run_t CMD...: CMD bounded by $T seconds (status 124 or more when cut)
run_t() {
	if has timeout; then
		timeout "$T" "$@"
		return $?
	fi
	"$@" &
	pid=$!
	(sleep "$T"; kill "$pid" 2>/dev/null) >/dev/null 2>&1 &
	killer=$!
	wait "$pid"
	rc=$?
	kill "$killer" 2>/dev/null
	return $rc
}

count=0
# emit TEST DST EXTRA RESULT MS DETAIL (EXTRA: "port=P", "size=S max=M" or "")
emit() {
	count=$((count + 1))
	line="$P test=$1 dst=$2"
	[ -n "$3" ] && line="$line $3"
	printf '%s result=%s ms=%s detail=%s\n' "$line" "$4" "$5" "$6"
}

unsupported_option() {
	case $1 in
	*"invalid option"* | *"illegal option"* | *"unrecognized option"* | *"unknown option"* | *"Usage:"* | *"usage:"*) return 0 ;;
	esac
	return 1
}

not_permitted() {
	case $1 in
	*"not permitted"* | *"ermission denied"* | *"Operation not permitted"* | *"socket: "* | *"capabilit"*) return 0 ;;
	esac
	return 1
}

# tcp_connect IP PORT: 0 when a connection opens; output on stdout
tcp_connect() {
	if has nc; then
		out=$(run_t nc -z -w "$T" "$1" "$2" 2>&1)
		rc=$?
		if ! unsupported_option "$out"; then
			printf '%s' "$out"
			return $rc
		fi
	fi
	if has bash; then
		run_t bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>&1
		return $?
	fi
	return 127
}

test_tcp() {
	t0=$(now_ms)
	if ! has nc && ! has bash; then
		emit tcp "$1" "port=$2" unsupported -1 "no nc and no bash in the image"
		return
	fi
	out=$(tcp_connect "$1" "$2")
	rc=$?
	ms=$(($(now_ms) - t0))
	if [ "$rc" -eq 0 ]; then
		emit tcp "$1" "port=$2" ok "$ms" "connected"
	elif [ "$rc" -eq 127 ]; then
		emit tcp "$1" "port=$2" unsupported -1 "no usable nc and no bash in the image"
	elif [ "$rc" -ge 124 ]; then
		emit tcp "$1" "port=$2" fail "$ms" "timed out after ${T}s"
	else
		emit tcp "$1" "port=$2" fail "$ms" "$(printf '%s' "${out:-connection failed}" | oneline)"
	fi
	sent=1
}

test_icmp() {
	if ! has ping; then
		emit icmp "$1" "" unsupported -1 "no ping in the image"
		return
	fi
	t0=$(now_ms)
	out=$(run_t ping -c 1 -W "$T" "$1" 2>&1)
	rc=$?
	ms=$(($(now_ms) - t0))
	sent=1
	if [ "$rc" -eq 0 ]; then
		emit icmp "$1" "" ok "$ms" "echo reply"
	elif not_permitted "$out" || unsupported_option "$out"; then
		emit icmp "$1" "" unsupported -1 "$(printf '%s' "$out" | oneline)"
	elif [ "$rc" -ge 124 ]; then
		emit icmp "$1" "" fail "$ms" "no echo reply within ${T}s"
	else
		emit icmp "$1" "" fail "$ms" "$(printf '%s' "$out" | tail -n 3 | oneline)"
	fi
}

test_arp() {
	t0=$(now_ms)
	if has arping; then
		out=$(run_t arping -c 1 -w "$T" -I "$IFACE" "$1" 2>&1)
		rc=$?
		if [ "$rc" -eq 0 ]; then
			emit arp "$1" "" ok $(($(now_ms) - t0)) "$(printf '%s' "$out" | grep -i 'reply' | head -n 1 | oneline)"
			return
		fi
		if ! not_permitted "$out" && ! unsupported_option "$out"; then
			emit arp "$1" "" fail $(($(now_ms) - t0)) "no ARP reply on $IFACE"
			return
		fi
	fi
	# no arping (or not allowed): the neighbour table the other tests filled
	if [ "${sent:-0}" = 0 ]; then
		tcp_connect "$1" 9 >/dev/null 2>&1
	fi
	if has ip; then
		n=$(ip neigh show "$1" dev "$IFACE" 2>/dev/null | head -n 1)
		case $n in
		*lladdr*)
			emit arp "$1" "" ok $(($(now_ms) - t0)) "$(printf '%s' "$n" | oneline)"
			return
			;;
		*FAILED* | *INCOMPLETE*)
			emit arp "$1" "" fail $(($(now_ms) - t0)) "no ARP reply on $IFACE"
			return
			;;
		esac
		r=$(ip route get "$1" 2>/dev/null | head -n 1)
		case $r in
		local*)
			emit arp "$1" "" ok $(($(now_ms) - t0)) "local address"
			;;
		*" via "*)
			emit arp "$1" "" fail $(($(now_ms) - t0)) "not on link: routed ($(printf '%s' "$r" | oneline))"
			;;
		*)
			emit arp "$1" "" fail $(($(now_ms) - t0)) "no neighbour entry on $IFACE"
			;;
		esac
		return
	fi
	if [ -r /proc/net/arp ]; then
		n=$(awk -v ip="$1" '$1 == ip { print $3, $4, $6; exit }' /proc/net/arp 2>/dev/null)
		case $n in
		0x2*) emit arp "$1" "" ok $(($(now_ms) - t0)) "lladdr $(echo "$n" | cut -d' ' -f2)" ;;
		'') emit arp "$1" "" fail $(($(now_ms) - t0)) "no ARP entry in /proc/net/arp" ;;
		*) emit arp "$1" "" fail $(($(now_ms) - t0)) "no ARP reply on $IFACE" ;;
		esac
		return
	fi
	emit arp "$1" "" unsupported -1 "no arping, no ip and no /proc/net/arp"
}

# df_ping IP MTU: 0 when a don't-fragment echo of MTU bytes (IP packet) returns
df_ping() {
	run_t ping -M do -s $(($2 - 28)) -c 1 -W "$T" "$1" 2>&1
}

test_mtu() {
	if ! has ping; then
		emit mtu "$1" "size=$MTU" unsupported -1 "no ping in the image"
		return
	fi
	t0=$(now_ms)
	if [ -r "/sys/class/net/$IFACE/mtu" ]; then
		local_mtu=$(cat "/sys/class/net/$IFACE/mtu")
		if [ "$local_mtu" -lt "$MTU" ] 2>/dev/null; then
			emit mtu "$1" "size=$MTU max=$local_mtu" fail 0 "$IFACE has mtu $local_mtu, less than $MTU"
			return
		fi
	fi
	out=$(df_ping "$1" "$MTU")
	rc=$?
	ms=$(($(now_ms) - t0))
	if [ "$rc" -eq 0 ]; then
		emit mtu "$1" "size=$MTU" ok "$ms" "$MTU bytes with don't-fragment"
		return
	fi
	if unsupported_option "$out" || not_permitted "$out"; then
		emit mtu "$1" "size=$MTU" unsupported -1 "$(printf '%s' "$out" | oneline)"
		return
	fi
	max=$(printf '%s' "$out" | sed -n 's/.*mtu[= ]\([0-9][0-9]*\).*/\1/p' | head -n 1)
	if [ -z "$max" ] && [ "$MTU" -gt 1500 ] && df_ping "$1" 1500 >/dev/null; then
		max=1500
	fi
	if [ -n "$max" ]; then
		emit mtu "$1" "size=$MTU max=$max" fail "$ms" "$MTU bytes do not pass with don't-fragment; $max do"
	else
		emit mtu "$1" "size=$MTU" fail "$ms" "$MTU bytes do not pass with don't-fragment ($(printf '%s' "$out" | tail -n 2 | oneline))"
	fi
}

if [ -z "$plan" ]; then
	echo "$P error detail=no plan in CCLM_NETCHECK_PLAN"
	exit 2
fi
head=${plan%%\"targets\"*}
IFACE=$(str iface "$head")
MTU=$(num mtu "$head")
T=$(num timeout "$head")
NODE=$(str node "$head")
: "${IFACE:=migration0}" "${MTU:=1500}" "${T:=2}"
src=-
if has ip; then
	src=$(ip -4 -o addr show dev "$IFACE" 2>/dev/null | sed -n 's/.* inet \([0-9.]*\).*/\1/p' | head -n 1)
	: "${src:=-}"
fi
tools=
for t in nc bash ping arping ip timeout; do
	has "$t" && tools="$tools${tools:+,}$t"
done
echo "$P start node=${NODE:--} iface=$IFACE src=$src mtu=$MTU tools=${tools:--}"

targets=$(printf '%s\n' "${plan#*\"targets\"}" | tr '}' '\n')
while IFS= read -r entry; do
	ip=$(str ip "$entry")
	[ -n "$ip" ] || continue
	port=$(num port "$entry")
	sent=0
	for t in $(str tests "$entry"); do
		case $t in
		tcp) test_tcp "$ip" "${port:-9185}" ;;
		icmp) test_icmp "$ip" ;;
		arp) test_arp "$ip" ;;
		mtu) test_mtu "$ip" ;;
		*) emit "$t" "$ip" "" unsupported -1 "unknown test" ;;
		esac
	done
done <<EOF
$targets
EOF
echo "$P done tests=$count"
exit 0
