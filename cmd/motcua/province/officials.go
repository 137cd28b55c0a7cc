package province

import (
	"fmt"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
)

var surnames = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"}
var middleNames = []string{"Văn", "Thị", "Minh", "Thu", "Đức", "Ngọc", "Quốc", "Thanh", "Hữu", "Kim", "Xuân", "Hoài"}
var givenNames = []string{"An", "Bình", "Cường", "Dung", "Giang", "Hà", "Hải", "Hương", "Khánh", "Lan", "Long", "Mai", "Nam", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trung", "Yến", "Hùng", "Linh", "Tuấn", "Vy"}

// personName is the n-th name of a deterministic sequence of Vietnamese names.
func personName(n int) string {
	h := uint64(n)*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	return fmt.Sprintf("%s %s %s", surnames[h%uint64(len(surnames))], middleNames[(h>>16)%uint64(len(middleNames))], givenNames[(h>>32)%uint64(len(givenNames))])
}

// Officials are the province's officials by agency and role.
type Officials struct {
	byAgencyRole map[string][]commands.Caller
	// All lists every official, the inspector and the administrator last.
	All []commands.Caller
}

// staffing is how many officials of each role an agency has: desks that receive have reception
// and cashier staff; every agency has specialists, heads and signers.
func staffing(receives bool) map[commands.Role]int {
	s := map[commands.Role]int{commands.RoleSpecialist: 6, commands.RoleHead: 2, commands.RoleSigner: 2}
	if receives {
		s[commands.RoleReception], s[commands.RoleCashier] = 6, 2
	}
	return s
}

// NewOfficials staffs every agency of catalog. Ids are stable: p<agency index>-<role>-<n>.
func NewOfficials(catalog *domain.Catalog) *Officials {
	o := &Officials{byAgencyRole: map[string][]commands.Caller{}}
	n := 0
	for i, a := range catalog.Agencies {
		receives := a.Code == CentreCode || isWard(a)
		for _, role := range commands.AgencyRoles {
			for k := range staffing(receives)[role] {
				n++
				c := commands.Caller{ID: fmt.Sprintf("p%02d-%s-%d", i, role, k+1), Name: personName(n), Roles: []commands.Role{role}, Agency: a.Code}
				o.byAgencyRole[a.Code+"/"+string(role)] = append(o.byAgencyRole[a.Code+"/"+string(role)], c)
				o.All = append(o.All, c)
			}
		}
	}
	o.All = append(o.All,
		commands.Caller{ID: "inspector-1", Name: "Thanh tra " + personName(n+1), Roles: []commands.Role{commands.RoleInspector}, Agency: CentreCode},
		commands.Caller{ID: "admin-1", Name: "Quản trị hệ thống", Roles: []commands.Role{commands.RoleAdmin}, Agency: CentreCode})
	return o
}

// Pick returns the k-th official (modulo their number) of agency in role; ok is false when the
// agency has nobody in that role.
func (o *Officials) Pick(agency string, role commands.Role, k int) (commands.Caller, bool) {
	staff := o.byAgencyRole[agency+"/"+string(role)]
	if len(staff) == 0 {
		return commands.Caller{}, false
	}
	return staff[k%len(staff)], true
}

// Inspector is the province's inspector, who reads every agency.
func (o *Officials) Inspector() commands.Caller { return o.All[len(o.All)-2] }

// isWard reports whether a is one of the generated wards, which receive at their own desk.
func isWard(a domain.Agency) bool {
	return len(a.Departments) > 0 && a.Departments[0].Code == wardUnits[0][0]
}

// ReceivingUnit is the desk that receives procedure p's dossiers: a ward's own, or the Centre for a
// department's procedures.
func ReceivingUnit(catalog *domain.Catalog, p domain.Procedure) string {
	if a, ok := catalog.Agency(p.CompetentAgency); ok && isWard(a) {
		return a.Code
	}
	return CentreCode
}
